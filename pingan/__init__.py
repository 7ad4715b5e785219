"""pingan 平安建设·社会治理平台."""

# The Celery app is loaded with Django so that @shared_task binds to it (pingan/celery.py).
from pingan.celery import app as celery_app

__all__ = ["celery_app"]
