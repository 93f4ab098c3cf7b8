"""scikit-learn's estimator checks as pytest cases, without the ones that cannot apply to us.

``parametrize_with_checks`` reports a check it cannot run (the array-API one needs SCIPY_ARRAY_API and
namespaces we do not accept) as skipped in every run; a test that is skipped forever says nothing, so
those checks are left out here with their reason, and expected failures stay visible as xfail.
"""

import pytest
from sklearn.utils.estimator_checks import estimator_checks_generator

# Checks that test a capability we do not offer, not a contract we keep.
NOT_APPLICABLE = {"check_array_api_input": "array-API namespaces (cupy, torch arrays) are not accepted; numpy is"}


def _name(check) -> str:
    return getattr(check, "func", check).__name__


def scikit_learn_checks(estimators, expected_failures=lambda estimator: {}):
    """``@parametrize(estimator, check)`` over every applicable check; ``expected_failures(est)`` -> {check: why}."""
    cases = []
    for estimator in estimators:
        failures = expected_failures(estimator)
        for est, check in estimator_checks_generator(estimator, legacy=True):
            name = _name(check)
            if name in NOT_APPLICABLE:
                continue
            marks = [pytest.mark.xfail(reason=failures[name], strict=True)] if name in failures else []
            cases.append(pytest.param(est, check, marks=marks, id=f"{type(est).__name__}-{name}-{len(cases)}"))
    return pytest.mark.parametrize("estimator, check", cases)
