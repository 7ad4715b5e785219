from django.urls import path

from pingan.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("map/", views.map_page, name="map"),
    path("audit/", views.audit_log, name="audit"),
    path("jurisdiction/", views.switch_jurisdiction, name="switch_jurisdiction"),
]
