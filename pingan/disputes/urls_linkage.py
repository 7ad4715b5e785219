"""Pages of police linkage (警调联动), mounted at /linkage/ (pingan.disputes.views_linkage)."""

from django.urls import path

from pingan.disputes import views_linkage as views

app_name = "linkage"
urlpatterns = [
    path("", views.board, name="board"),
    path("calls/", views.call_list, name="calls"),
    path("calls/<int:pk>/", views.call_detail, name="call"),
    path("calls/<int:pk>/push/", views.push_call, name="push"),
    path("calls/<int:pk>/not-push/", views.not_push_call, name="not_push"),
    path("calls/<int:pk>/follow-up/", views.follow_up_call, name="follow_up"),
    path("import/", views.import_page, name="import"),
]
