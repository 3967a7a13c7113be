from accounts.api import views
from sofinance.api.routing import api_path

urlpatterns = [
    api_path("auth/token", views.TokenObtainView.as_view(), name="auth-token"),
    api_path("auth/refresh", views.TokenRefreshView.as_view(), name="auth-refresh"),
    api_path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    api_path("me", views.MeView.as_view(), name="me"),
    api_path("invitations/accept", views.InvitationAcceptView.as_view(), name="invitation-accept"),
    api_path("companies", views.CompanyListView.as_view(), name="company-list"),
    api_path("companies/<int:company_id>", views.CompanyDetailView.as_view(), name="company-detail"),
    api_path("companies/<int:company_id>/members", views.MemberListView.as_view(), name="member-list"),
    api_path(
        "companies/<int:company_id>/members/<int:pk>", views.MemberDetailView.as_view(), name="member-detail"
    ),
    api_path(
        "companies/<int:company_id>/invitations", views.InvitationListView.as_view(), name="invitation-list"
    ),
    api_path(
        "companies/<int:company_id>/invitations/<int:pk>",
        views.InvitationDetailView.as_view(),
        name="invitation-detail",
    ),
    api_path("companies/<int:company_id>/accounts", views.AccountListView.as_view(), name="account-list"),
    api_path(
        "companies/<int:company_id>/accounts/load-template",
        views.AccountLoadTemplateView.as_view(),
        name="account-load-template",
    ),
    api_path(
        "companies/<int:company_id>/accounts/<int:pk>",
        views.AccountDetailView.as_view(),
        name="account-detail",
    ),
]
