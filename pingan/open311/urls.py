"""GeoReport v2 resources under /open311/v2/ (each ends in .xml or .json)."""

from django.urls import path

from pingan.open311 import views

app_name = "open311"

urlpatterns = [
    path("discovery.<str:format>", views.discovery, name="discovery"),
    path("services.<str:format>", views.service_list, name="services"),
    path("services/<str:service_code>.<str:format>", views.service_definition, name="service"),
    path("requests.<str:format>", views.requests, name="requests"),
    path("requests/<str:service_request_id>.<str:format>", views.request_detail, name="request"),
    path("tokens/<str:token_id>.<str:format>", views.token, name="token"),
]
