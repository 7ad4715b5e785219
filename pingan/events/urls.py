from django.urls import path

from pingan.events import views

app_name = "events"

urlpatterns = [
    path("report/", views.report, name="report"),
]
