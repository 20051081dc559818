import time, pytest
from tests.orders.test_export import *
@pytest.mark.django_db
def test_t(admin_user, admin_client_):
    t=time.monotonic()
    start = timezone.now() - timedelta(days=1)
    Order.objects.bulk_create(Order(recipient_type="patient", patient_impilo_id=n, patient_name=f"P {n}", state=State.SUBMITTED, created_by=admin_user, created_at=start + timedelta(milliseconds=n), impilo_id=n + 1, impilo_status="shipped", external_ids=[f"CRM-{n}"], reference=f"OD-{n:08d}") for n in range(3125))
    print("bulk", time.monotonic()-t); t=time.monotonic()
    clone_orders(5); print("clone", time.monotonic()-t); t=time.monotonic()
    r = admin_client_.get(EXPORT); n=sum(len(c) for c in r.streaming_content); print("export", time.monotonic()-t, n)
