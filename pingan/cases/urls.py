from django.urls import path

from pingan.cases import views, views_indicators

app_name = "cases"

urlpatterns = [
    # Indicators (统计 → 指标): pingan.cases.views_indicators
    path("indicators/", views_indicators.indicator_page, name="indicators"),
    path("indicators/scorecard/", views_indicators.scorecard_page, name="scorecard"),
    # The loop's pages: pingan.cases.views (notifications link to /cases/<pk>/)
    path("desk/", views.desk, name="desk"),
    path("desk/export.xlsx", views.desk_export, name="desk_export"),
    path("mine/", views.my_work, name="mywork"),
    path("board/", views.board, name="board"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/act/<str:action>/", views.case_act, name="act"),
]
