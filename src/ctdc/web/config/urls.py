from django.contrib import admin
from django.contrib.auth import views as auth
from django.urls import include, path

from ctdc.web.accounts import views as accounts
from ctdc.web.api.api import api
from ctdc.web.portal import views as portal

urlpatterns = [
    path("", portal.home, name="home"),
    path("explore/", portal.explore, name="explore"),
    path("explore/download/<str:dim>.<str:fmt_>", portal.chart_download, name="chart-download"),
    path("map/", portal.geography, name="map"),
    path("countries/<str:iso>/", portal.country, name="country"),
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
    path("intake/", accounts.intake_home, name="intake_home"),
    path("intake/", include("ctdc.web.submissions.urls")),
    path("api/", api.urls),
    path("codebook/", include("ctdc.web.codebook.urls")),
    path("contribute/", include("ctdc.web.contribute.urls")),
    path("admin/", admin.site.urls),
]
