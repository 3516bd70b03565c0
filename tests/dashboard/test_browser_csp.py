"""Admin e Swagger UI funcionam no Chromium sob a CSP, sem nenhuma violação nem erro de script."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.dashboard.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Cada violação da CSP dispara "securitypolicyviolation" no documento (e um erro no console).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def watched(page):
    page.add_init_script(RECORD_VIOLATIONS)
    return page


def violations(page) -> list[str]:
    found: list[str] = page.evaluate("window.__cspViolations")
    return found


def test_swagger_ui_renders_the_schema_under_the_policy(watched, page_probe):
    # O bundle do Swagger UI tem ~1,5 MB: folga para a máquina compartilhada.
    response = watched.goto("/api/docs/", timeout=30_000)

    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(watched.locator(".swagger-ui .info .title")).to_contain_text("Trader Monitor API")
    expect(watched.locator(".opblock-summary-path").first).to_be_visible()
    watched.locator(".opblock-summary").filter(has_text="/api/auth/login").first.click()
    expect(watched.get_by_role("button", name="Try it out").first).to_be_visible()
    assert violations(watched) == []
    assert page_probe.errors == []


def test_the_admin_works_under_the_policy(watched, page_probe, django_user_model):
    django_user_model.objects.create_superuser("raiz", "raiz@example.com", PASSWORD)

    response = watched.goto("/admin/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    watched.locator("#id_username").fill("raiz")
    watched.locator("#id_password").fill(PASSWORD)
    watched.locator("#login-form [type=submit]").click()
    expect(watched.locator("#site-name")).to_contain_text("Trader Monitor")
    watched.goto("/admin/accounts/user/add/")
    expect(watched.locator("#id_username")).to_be_visible()
    watched.goto("/admin/insights/insightcall/")
    expect(watched.locator("#changelist")).to_be_visible()

    assert violations(watched) == []
    assert page_probe.errors == []
