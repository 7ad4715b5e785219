from django.contrib import admin
from django.urls import include, path

from pingan.api import api

urlpatterns = [
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("people/", include("pingan.people.urls")),
    path("cases/", include("pingan.cases.urls")),
    path("events/", include("pingan.events.urls")),
    path("disputes/", include("pingan.disputes.urls")),
    path("linkage/", include("pingan.disputes.urls_linkage")),
    path("open311/v2/", include("pingan.open311.urls")),
    path("", include("pingan.web.urls")),
]
