from django.contrib import admin
from django.contrib.auth import views as auth
from django.urls import include, path, re_path

from ctdc.web.accounts import views as accounts
from ctdc.web.api.api import api
from ctdc.web.audit import views as audit
from ctdc.web.portal import views as portal

urlpatterns = [
    path("", portal.home, name="home"),
    path("explore/", portal.explore, name="explore"),
    path("explore/download/<str:dim>.<str:fmt_>", portal.chart_download, name="chart-download"),
    path("map/", portal.geography, name="map"),
    path("map/download/flows.<str:fmt_>", portal.flows_download, name="flows-download"),
    path("countries/<str:iso>/", portal.country, name="country"),
    path("perpetrators/", portal.perpetrators, name="perpetrators"),
    path("routes/", portal.routes, name="routes"),
    path("fees/", portal.fees, name="fees"),
    path("about/figures/", portal.method, name="figures-method"),
    path("language/<str:code>/", portal.language, name="language"),
    path("steward/usage/", portal.usage, name="steward-usage"),
    path("steward/usage.csv", portal.usage_csv, name="steward-usage-csv"),
    path("data/", include("ctdc.web.releases.urls")),
    path("accounts/login/", auth.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth.LogoutView.as_view(), name="logout"),
    path("accounts/invitations/", accounts.invitations, name="invitations"),
    path("accounts/invitations/<int:pk>/withdraw/", accounts.invitation_withdraw, name="invitation_withdraw"),
    path("accounts/invitation/<str:token>/", accounts.invitation_accept_page, name="invitation_accept"),
    path("accounts/two-factor/", accounts.two_factor, name="two_factor"),
    path("accounts/agreements/", accounts.agreements, name="agreements"),
    path("accounts/tokens/", accounts.api_tokens, name="api_tokens"),
    path("accounts/tokens/<int:pk>/revoke/", accounts.api_token_revoke, name="api_token_revoke"),
    path("accounts/audit/", audit.audit_list, name="audit_list"),
    path("accounts/audit.csv", audit.audit_csv, name="audit_csv"),
    path("intake/", accounts.intake_home, name="intake_home"),
    path("intake/", include("ctdc.web.submissions.urls")),
    path("api/", api.urls),
    path("codebook/", include("ctdc.web.codebook.urls")),
    path("contribute/", include("ctdc.web.contribute.urls")),
    path("admin/", admin.site.urls),
    # Last: a language prefix on any address (/fr/, /es/explore/?…) sets the language and drops the prefix.
    re_path(r"^(?P<code>en|fr|es)/(?P<rest>.*)$", portal.language_prefix, name="language-prefix"),
]
