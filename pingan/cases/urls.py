from django.urls import path

from pingan.cases import views_indicators

app_name = "cases"

urlpatterns = [
    # Indicators (统计 → 指标): pingan.cases.views_indicators
    path("indicators/", views_indicators.indicator_page, name="indicators"),
    path("indicators/scorecard/", views_indicators.scorecard_page, name="scorecard"),
]
