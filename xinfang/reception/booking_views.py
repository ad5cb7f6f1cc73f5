"""Appointment pages of leader reception: the staff's slots, and the public booking (预约接访).

The slot pages need a login; /reception/book/... is public and rate-limited per address.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from xinfang.cases import access
from xinfang.cases.validators import mask_phone
from xinfang.orgs.http import AuthedRequest, client_address
from xinfang.reception import conf, selectors, services
from xinfang.reception.forms import (
    BookingForm,
    CancelBookingForm,
    SlotForm,
    apply_errors,
)
from xinfang.reception.models import Booking
from xinfang.reception.viewscope import _office

SECRET = "（保密）"  # noqa: S105 (the words shown for a booker the viewer may not see)


# ---------------------------------------------------------------- appointment slots (staff)


@login_required
@require_http_methods(["GET", "POST"])
def slots(request: AuthedRequest) -> HttpResponse:
    office = _office(request)
    can = selectors.can_record(request.user, office)
    form = SlotForm(request.POST or None, office=office)
    if request.method == "POST":
        if not can:
            raise PermissionDenied("只有本机构的登记员和负责人可以开放约访时段")
        if form.is_valid():
            try:
                services.slot_create(office=office, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "约访时段已开放")
                return redirect(f"{reverse('reception:slots')}?office={office.code}")
    rows = selectors.slots_for(request.user).filter(office=office, date__gte=selectors.today())
    return render(
        request,
        "reception/slots.html",
        {
            "office": office,
            "slots": rows,
            "form": form,
            "can_record": can,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def slot_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    slot = get_object_or_404(selectors.slots_for(request.user), pk=pk)
    can = selectors.can_record(request.user, slot.office)
    revealed: dict[int, str] = {}
    if request.method == "POST":
        booking = get_object_or_404(Booking, pk=request.POST.get("booking"), slot=slot)
        try:
            if "reveal" in request.POST:
                revealed[booking.pk] = services.booking_phone_reveal(
                    booking=booking, by=request.user
                )
            elif "cancel" in request.POST:
                services.booking_cancel(booking=booking, by=request.user)
                messages.success(request, f"预约 {booking.reference} 已取消，名额已释放")
                return redirect("reception:slot", pk=slot.pk)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        slot.refresh_from_db()
    bookings = list(selectors.slot_bookings(slot))
    cases = _visible_cases(request.user, {b.case_number for b in bookings if b.case_number})
    hidden = selectors.hidden_bookings(request.user, bookings)
    rows = [
        {
            "b": b,
            "phone": revealed.get(b.pk) or mask_phone(b.phone),
            "revealed": b.pk in revealed,
            "case": cases.get(b.case_number),
            "name": b.name,
            "description": b.description,
            "hidden": False,
        }
        if b.pk not in hidden
        else {
            "b": b,
            "phone": SECRET,
            "revealed": False,
            "case": cases.get(b.case_number),
            "name": SECRET,
            "description": SECRET,
            "hidden": True,
        }
        for b in bookings
    ]
    return render(
        request, "reception/slot_detail.html", {"slot": slot, "rows": rows, "can_record": can}
    )


def _visible_cases(user, numbers: set[str]) -> dict:
    """The matters named by these numbers that `user` may see, by number (one query for all)."""
    if not numbers:
        return {}
    return {c.number: c for c in access.visible_cases(user).filter(number__in=numbers)}


# ---------------------------------------------------------------- public booking (预约接访)


def _rate_limited(request: HttpRequest) -> bool:
    """Count this POST against the IP's hourly allowance; True once it is used up."""
    key = f"reception:book:{client_address(request)}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return count > conf.booking_rate_limit()


@require_http_methods(["GET", "POST"])
def book(request: HttpRequest) -> HttpResponse:
    """Public: choose an offered slot and book it. GET only shows; POST books."""
    slots = list(selectors.open_slots())
    # bound on every POST, an empty one too: a refusal is added to its errors
    form = BookingForm(request.POST if request.method == "POST" else None, slots=slots)
    status = 200
    if request.method == "POST":
        if _rate_limited(request):
            form.add_error(None, "提交过于频繁，请一小时后再试")
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            try:
                booking = services.slot_book(
                    slot_id=data["slot"],
                    name=data["name"],
                    phone=data["phone"],
                    description=data["description"],
                    case_number=data["case_number"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                return redirect("reception:book_done", reference=booking.reference)
    return render(request, "reception/book.html", {"form": form, "slots": slots}, status=status)


@require_GET
def book_done(request: HttpRequest, reference: str) -> HttpResponse:
    """Public: the booking number and the slot; no name or phone is shown here."""
    booking = get_object_or_404(
        Booking.objects.select_related("slot", "slot__office"), reference=reference
    )
    return render(request, "reception/book_done.html", {"booking": booking})


@require_http_methods(["GET", "POST"])
def book_cancel(request: HttpRequest) -> HttpResponse:
    form = CancelBookingForm(request.POST if request.method == "POST" else None)
    done = None
    status = 200
    if request.method == "POST":
        if _rate_limited(request):
            form.add_error(None, "提交过于频繁，请一小时后再试")
            status = 429
        elif form.is_valid():
            try:
                done = services.booking_cancel_by_citizen(**form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
    return render(
        request, "reception/book_cancel.html", {"form": form, "done": done}, status=status
    )
