"""Dispute pages (矛盾纠纷): /disputes/ — pingan.disputes.views."""

from django.urls import path

from pingan.disputes import views

app_name = "disputes"

urlpatterns = [
    path("", views.dispute_list, name="list"),
    path("new/", views.window, name="window"),
    path("new/person/", views.party_lookup, name="party_lookup"),
    path("workbench/", views.workbench, name="workbench"),
    path("stats/", views.stats_page, name="stats"),
    path("<int:pk>/", views.dispute_detail, name="detail"),
    path("<int:pk>/assign/", views.assign, name="assign"),
    path("<int:pk>/accept/", views.accept, name="accept"),
    path("<int:pk>/consent/", views.consent, name="consent"),
    path("<int:pk>/sessions/", views.add_session, name="session"),
    path("<int:pk>/outcome/", views.outcome, name="outcome"),
    path("<int:pk>/parties/", views.add_party, name="party"),
]
