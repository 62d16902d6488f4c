"""Members of a tenant (every member sees them; admins change them) and invitation links."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from panka_web.http import AuthenticatedHttpRequest
from panka_web.listing import page_of

from . import members
from .access import Right, get_tenant_for_user
from .models import Membership, Role
from .rows import MEMBER_COLUMNS, member_rows

MEMBERS_PER_PAGE = 50


@login_required
@require_GET
def member_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    access = get_tenant_for_user(request.user, slug)
    memberships = access.tenant.memberships.order_by("user__username")
    page = page_of(memberships, MEMBER_COLUMNS, request.GET.get("page"), MEMBERS_PER_PAGE)
    rows = member_rows(
        access.tenant, page.object_list, admin=access.can_admin, csrf=get_token(request)
    )
    return render(
        request,
        "tenants/member_list.html",
        {
            "access": access,
            "tenant": access.tenant,
            "page": page,
            "rows": rows,
            "roles": Role.choices,
            "new_link": request.session.pop("invitation_link", None),
        },
    )


def _membership(access, username: str) -> Membership:
    membership = (
        access.tenant.memberships.select_related("user", "tenant")
        .filter(user__username=username)
        .first()
    )
    if membership is None:
        raise Http404
    return membership


def _admin_action(request: AuthenticatedHttpRequest, slug: str, do) -> HttpResponse:
    access = get_tenant_for_user(request.user, slug, need=Right.ADMIN)
    try:
        message = do(access)
    except members.MemberError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, message)
    return redirect("member_list", slug=slug)


@login_required
@require_POST
def member_add(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    def do(access) -> str:
        m = members.add_member(
            tenant=access.tenant, who=request.POST.get("who", ""), role=request.POST.get("role", ""),
            actor=request.user, request=request,
        )  # fmt: skip
        return f"{m.user.get_username()} is now {m.role}."

    return _admin_action(request, slug, do)


@login_required
@require_POST
def member_role(request: AuthenticatedHttpRequest, slug: str, username: str) -> HttpResponse:
    def do(access) -> str:
        m = members.change_role(
            membership=_membership(access, username), role=request.POST.get("role", ""), actor=request.user,
            request=request,
        )  # fmt: skip
        return f"{username} is now {m.role}."

    return _admin_action(request, slug, do)


@login_required
@require_POST
def member_remove(request: AuthenticatedHttpRequest, slug: str, username: str) -> HttpResponse:
    def do(access) -> str:
        members.remove_member(
            membership=_membership(access, username), actor=request.user, request=request
        )
        return f"{username} no longer has access."

    return _admin_action(request, slug, do)


@login_required
@require_POST
def member_invite(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    def do(access) -> str:
        token = members.invite(
            tenant=access.tenant,
            role=request.POST.get("role", ""),
            actor=request.user,
            request=request,
        )
        # Shown once on the next page, then gone: only the token's hash is stored.
        request.session["invitation_link"] = request.build_absolute_uri(
            reverse("invitation", args=[token])
        )
        return "Invitation created: copy the link below; it works once, for 7 days."

    return _admin_action(request, slug, do)


class SignUpForm(UserCreationForm):
    email = forms.EmailField(required=False)

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")


@require_http_methods(["GET", "POST"])
def invitation(request: AuthenticatedHttpRequest, token: str) -> HttpResponse:
    """Accept an invitation: as the signed-in user, or by signing up first."""
    invite = members.open_invitation(token)
    if invite is None:
        return render(request, "tenants/invitation.html", {"invalid": True}, status=404)
    form = SignUpForm(request.POST or None) if not request.user.is_authenticated else None
    if request.method == "POST":
        if form is not None:
            if not form.is_valid():
                return render(
                    request, "tenants/invitation.html", {"invite": invite, "form": form}, status=400
                )
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        try:
            members.accept(token=token, user=request.user, request=request)
        except members.MemberError as exc:
            return render(
                request,
                "tenants/invitation.html",
                {"invalid": True, "message": str(exc)},
                status=404,
            )
        messages.success(request, f"Welcome to {invite.tenant.display_name}.")
        return redirect("tenant_home", slug=invite.tenant.slug)
    return render(request, "tenants/invitation.html", {"invite": invite, "form": form})
