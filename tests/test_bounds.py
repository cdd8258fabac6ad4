"""ilac_plan's positioning bounds against a numerical Fisher information (tests/fim_reference.py).

Three layers:

1. the reference itself against closed forms written here (uplink CRB_theta and CRB_tau
   with an unknown complex gain; the downlink factors N and 2; the h = 0 chain rule;
   Richardson against analytic Jacobians), so the reference is known good to ~1e-9;
2. ``crb_aoa``, ``crb_toa``, ``rms_bandwidth_hz`` and ``crb_position`` with
   ``bound="achievable"`` against the reference, to 1e-6 relative;
3. ``bound="paper"`` against the printed Eqs. (5)-(7), and the ratios achievable / paper.

The fast tier takes a parametrised sample; ``-m slow`` runs the full product
N_T x K x varsigma x theta (x h x rho x direction for the position).
"""

import itertools

import fim_reference as fr
import numpy as np
import pytest

C = fr.C
LAM = fr.WAVELENGTH_M
DF = fr.SUBCARRIER_SPACING_HZ
RTOL = 1e-6          # ilac_plan against the reference
REF_RTOL = 1e-8      # the reference against closed forms

N_ALL = (2, 3, 8, 17, 64)
K_ALL = (12, 13, 120, 1332)
VARSIGMA_ALL = (0.0, 1.0)
THETA_DEG_ALL = (-80.0, -30.0, 0.0, 45.0, 80.0)
H_ALL = (0.0, 5.0, 23.5)
RHO_ALL = (3.0, 10.0, 50.0, 400.0)
DIRECTIONS = (("uplink", "orthogonal"), ("downlink", "orthogonal"), ("downlink", "beamformed"))
MODE = {("uplink", "orthogonal"): "uplink", ("downlink", "orthogonal"): "orthogonal",
        ("downlink", "beamformed"): "beamformed"}

SUBCARRIER_SETS = {            # name: (shift, comb)
    "centred": (0, 1),
    "off_centre": (37, 1),
    "comb4": (0, 4),
}


def crb_module():
    """ilac_plan.model.crb, imported late so the reference tests run without it."""
    from ilac_plan.model import crb
    return crb


# ------------------------------------------------------------------------------------------
# closed forms (written here, independently of both ilac_plan and the reference)
# ------------------------------------------------------------------------------------------
def closed_crb_theta(theta, n, snr, tau_l, d=LAM / 2, lam=LAM):
    """Achievable uplink bound, unknown complex gain. [rad^2]"""
    return 3 * lam**2 / (2 * np.pi**2 * d**2 * snr * np.cos(theta) ** 2 * tau_l * n * (n**2 - 1))


def closed_crb_tau(beta2, n, snr, tau_l):
    """Achievable uplink bound, beta2 the centred second moment of the frequencies. [s^2]"""
    return 1 / (8 * np.pi**2 * snr * n * tau_l * beta2)


def paper_eq5(theta, n, snr, tau_l, d=LAM / 2, lam=LAM):
    return 3 * lam**2 / (4 * np.pi**2 * d**2 * snr * np.cos(theta) ** 2 * n * (n - 1)
                         * (2 * n - 1) * tau_l)


def paper_eq6(b_l, n, snr, tau_l, varsigma):
    return 3 / (8 * np.pi**2 * b_l**2 * (1 + varsigma) * snr * n * tau_l)


def flat_beta2(k, df=DF):
    return df**2 * (k**2 - 1) / 12


def closed_position(x, y, h, n, beta2, snr, tau_l, factor=1.0, d=LAM / 2, lam=LAM):
    """Position CRB from the (u, tau) information, which is diagonal for these models.

    trace(G^-1 D^-1 G^-T) with G = d(u, tau)/d(x, y): written as a sum of squares of
    G^-1 (2 x 2) so that the ill-conditioning (angle >> range information) costs nothing.
    """
    r = np.sqrt(x**2 + y**2 + h**2)
    j_u = 2 * snr * tau_l * (2 * np.pi * d / lam) ** 2 * n * (n**2 - 1) / 12 / factor
    j_t = 8 * np.pi**2 * snr * n * tau_l * beta2 / factor
    g = np.array([[-x * y / r**3, (x**2 + h**2) / r**3], [x / (r * C), y / (r * C)]])
    gi = np.linalg.inv(g)
    return np.sum(gi[:, 0] ** 2) / j_u + np.sum(gi[:, 1] ** 2) / j_t


# A few SNRs and symbol counts; each case picks one deterministically.
SNR_TAU = ((10**1.5, 200.0), (0.5, 1.0), (1e3, 7.0))


def snr_tau(*key):
    """A deterministic pick from SNR_TAU for the case ``key`` (numbers)."""
    return SNR_TAU[sum(int(abs(v) * 7) for v in key) % len(SNR_TAU)]


# ==========================================================================================
# 1. the reference against closed forms
# ==========================================================================================
REF_SAMPLE = [(2, 12, -80.0), (3, 13, 0.0), (8, 120, 45.0), (17, 1332, -30.0),
              (64, 12, 80.0), (64, 1332, 45.0)]


def check_reference_angle_delay(n, k, theta_deg, set_name, method="richardson"):
    shift, comb = SUBCARRIER_SETS[set_name]
    freqs = fr.subcarrier_freqs(k, shift=shift, comb=comb)
    beta2 = fr.centred_second_moment(freqs)
    if set_name == "centred":
        assert beta2 == pytest.approx(flat_beta2(k), rel=1e-13)
    if set_name == "comb4":
        assert beta2 == pytest.approx(16 * flat_beta2(k), rel=1e-13)
    theta = np.deg2rad(theta_deg)
    snr, tau_l = snr_tau(n, k, theta_deg)
    want_theta = closed_crb_theta(theta, n, snr, tau_l)
    want_tau = closed_crb_tau(beta2, n, snr, tau_l)
    for mode, factor in (("uplink", 1.0), ("orthogonal", float(n)), ("beamformed", 2.0)):
        got = fr.crb_theta_tau(mode, theta_rad=theta, n_antennas=n, freqs=freqs, snr=snr,
                               n_loc_symbols=tau_l, method=method)
        np.testing.assert_allclose(got, (factor * want_theta, factor * want_tau),
                                   rtol=REF_RTOL, err_msg=f"{mode} {method}")


@pytest.mark.parametrize("set_name", list(SUBCARRIER_SETS))
@pytest.mark.parametrize("n,k,theta_deg", REF_SAMPLE)
def test_reference_angle_delay_closed_forms(n, k, theta_deg, set_name):
    check_reference_angle_delay(n, k, theta_deg, set_name)
    check_reference_angle_delay(n, k, theta_deg, set_name, method="analytic")


def test_reference_other_spacing_and_wavelength():
    lam, d = 299_792_458.0 / 3.5e9, 0.37 * 299_792_458.0 / 3.5e9
    freqs = fr.subcarrier_freqs(24, spacing_hz=30e3)
    got = fr.crb_theta_tau("uplink", theta_rad=0.4, n_antennas=6, freqs=freqs, snr=3.0,
                           n_loc_symbols=5, spacing_m=d, wavelength_m=lam)
    np.testing.assert_allclose(got, (closed_crb_theta(0.4, 6, 3.0, 5, d=d, lam=lam),
                                     closed_crb_tau(30e3**2 * (24**2 - 1) / 12, 6, 3.0, 5)),
                               rtol=REF_RTOL)


def check_reference_position(n, k, theta_deg, h, rho):
    freqs = fr.subcarrier_freqs(k)
    beta2 = fr.centred_second_moment(freqs)
    theta = np.deg2rad(theta_deg)
    x, y = rho * np.cos(theta), rho * np.sin(theta)
    snr, tau_l = snr_tau(n, k, theta_deg, h, rho)
    for mode, factor in (("uplink", 1.0), ("orthogonal", float(n)), ("beamformed", 2.0)):
        kw = {"x_m": x, "y_m": y, "height_diff_m": h, "n_antennas": n, "freqs": freqs,
              "snr": snr, "n_loc_symbols": tau_l}
        got = fr.crb_position_xy(mode, **kw)
        want = closed_position(x, y, h, n, beta2, snr, tau_l, factor)
        assert got == pytest.approx(want, rel=REF_RTOL), mode
        assert fr.crb_position_xy(mode, method="analytic", **kw) == pytest.approx(
            got, rel=REF_RTOL), mode
        if h == 0.0:   # chain rule: r^2 CRB_theta + c^2 CRB_tau (theta and tau decouple)
            c_th, c_tau = fr.crb_theta_tau(mode, theta_rad=theta, n_antennas=n, freqs=freqs,
                                           snr=snr, n_loc_symbols=tau_l)
            assert got == pytest.approx(rho**2 * c_th + C**2 * c_tau, rel=REF_RTOL), mode


POSITION_REF_SAMPLE = [(2, 12, -80.0, 0.0, 3.0), (3, 13, 0.0, 23.5, 10.0),
                       (8, 120, 45.0, 5.0, 400.0), (17, 1332, -30.0, 0.0, 50.0),
                       (64, 12, 45.0, 0.0, 3.0), (64, 13, 80.0, 5.0, 3.0),
                       (64, 1332, -80.0, 23.5, 10.0)]


@pytest.mark.parametrize("n,k,theta_deg,h,rho", POSITION_REF_SAMPLE)
def test_reference_position(n, k, theta_deg, h, rho):
    check_reference_position(n, k, theta_deg, h, rho)


def test_reference_position_covariance_is_the_rotated_one():
    """The rotated difference frame changes nothing: full (x, y) block, both methods."""
    kw = {"x_m": 7.0, "y_m": -4.0, "height_diff_m": 12.0, "n_antennas": 8,
          "freqs": fr.subcarrier_freqs(48), "snr": 20.0, "n_loc_symbols": 3}
    a = fr.crb_position_xy("beamformed", full=True, **kw)
    b = fr.crb_position_xy("beamformed", full=True, method="analytic", **kw)
    np.testing.assert_allclose(a[:2, :2], b[:2, :2], rtol=1e-8,
                               atol=1e-8 * np.max(np.abs(b[:2, :2])))


@pytest.mark.slow
@pytest.mark.parametrize("n", N_ALL)
def test_reference_full_product(n):
    for k, theta_deg in itertools.product(K_ALL, THETA_DEG_ALL):
        for set_name in SUBCARRIER_SETS:
            check_reference_angle_delay(n, k, theta_deg, set_name)
        for h, rho in itertools.product(H_ALL, RHO_ALL):
            check_reference_position(n, k, theta_deg, h, rho)


# ==========================================================================================
# 2./3. ilac_plan against the reference and the printed equations
# ==========================================================================================
def ref_theta_tau(n, k, theta, snr, tau_l, set_name="centred", spacing_m=None):
    shift, comb = SUBCARRIER_SETS[set_name]
    return fr.crb_theta_tau("uplink", theta_rad=theta, n_antennas=n,
                            freqs=fr.subcarrier_freqs(k, shift=shift, comb=comb), snr=snr,
                            n_loc_symbols=tau_l, spacing_m=spacing_m)


def check_aoa_toa(n, k, theta_deg, varsigma, spacing_m=None):
    crb = crb_module()
    theta = np.deg2rad(theta_deg)
    snr, tau_l = snr_tau(n, k, theta_deg, varsigma)
    d = LAM / 2 if spacing_m is None else spacing_m
    ref_th, ref_tau = ref_theta_tau(n, k, theta, snr, tau_l, spacing_m=spacing_m)
    common = {"n_antennas": n, "snr": snr, "n_loc_symbols": tau_l}

    ach_th = float(crb.crb_aoa(theta, wavelength_m=LAM, spacing_m=spacing_m,
                               bound="achievable", **common))
    pap_th = float(crb.crb_aoa(theta, wavelength_m=LAM, spacing_m=spacing_m, **common))
    assert ach_th == pytest.approx(ref_th, rel=RTOL), "crb_aoa achievable vs FIM"
    assert pap_th == pytest.approx(paper_eq5(theta, n, snr, tau_l, d=d), rel=RTOL), "Eq. (5)"
    assert float(crb.crb_aoa(theta, wavelength_m=LAM, spacing_m=spacing_m, bound="paper",
                             **common)) == pap_th
    assert ach_th / pap_th == pytest.approx(2 * (2 * n - 1) / (n + 1), rel=RTOL)

    b_l = k * DF
    ach_tau = float(crb.crb_toa(b_l, varsigma=varsigma, bound="achievable", **common))
    pap_tau = float(crb.crb_toa(b_l, varsigma=varsigma, **common))
    assert ach_tau == pytest.approx(ref_tau, rel=RTOL), "crb_toa achievable vs FIM"
    assert pap_tau == pytest.approx(paper_eq6(b_l, n, snr, tau_l, varsigma), rel=RTOL), "Eq. (6)"
    assert float(crb.crb_toa(b_l, varsigma=varsigma, bound="paper", **common)) == pap_tau
    assert ach_tau / pap_tau == pytest.approx(4 * (1 + varsigma) * k**2 / (k**2 - 1), rel=RTOL)
    # the achievable bound does not depend on varsigma, the paper's does (as 1/(1 + varsigma))
    other = 1.0 - varsigma
    assert float(crb.crb_toa(b_l, varsigma=other, bound="achievable", **common)) == \
        pytest.approx(ach_tau, rel=1e-12)
    assert float(crb.crb_toa(b_l, varsigma=other, **common)) == \
        pytest.approx(pap_tau * (1 + varsigma) / (1 + other), rel=1e-12)


AOA_TOA_SAMPLE = [(2, 12, -80.0, 1.0), (3, 13, 0.0, 0.0), (8, 120, 45.0, 1.0),
                  (17, 1332, -30.0, 0.0), (64, 12, 80.0, 0.0), (64, 1332, 0.0, 1.0),
                  (8, 13, -30.0, 0.0)]


@pytest.mark.parametrize("n,k,theta_deg,varsigma", AOA_TOA_SAMPLE)
def test_aoa_toa_against_fim_and_paper(n, k, theta_deg, varsigma):
    check_aoa_toa(n, k, theta_deg, varsigma)


def test_aoa_other_spacing():
    check_aoa_toa(8, 24, 30.0, 1.0, spacing_m=0.4 * LAM)


@pytest.mark.slow
@pytest.mark.parametrize("n", N_ALL)
def test_aoa_toa_full_product(n):
    for k, varsigma, theta_deg in itertools.product(K_ALL, VARSIGMA_ALL, THETA_DEG_ALL):
        check_aoa_toa(n, k, theta_deg, varsigma)


# -- subcarrier sets: only the centred second moment matters --------------------------------
@pytest.mark.parametrize("set_name", list(SUBCARRIER_SETS))
@pytest.mark.parametrize("k", K_ALL)
def test_rms_bandwidth_hz(k, set_name):
    crb = crb_module()
    shift, comb = SUBCARRIER_SETS[set_name]
    idx = fr.subcarrier_indices(k, shift=shift, comb=comb)
    want = np.sqrt(fr.centred_second_moment(fr.subcarrier_freqs(k, shift=shift, comb=comb)))
    assert float(crb.rms_bandwidth_hz(idx)) == pytest.approx(want, rel=1e-12)
    assert float(crb.rms_bandwidth_hz(idx)) == pytest.approx(
        comb * DF * np.sqrt((k**2 - 1) / 12), rel=1e-12)
    assert float(crb.rms_bandwidth_hz(idx, 30e3)) == pytest.approx(2 * want, rel=1e-12)
    assert float(crb.rms_bandwidth_hz(idx, subcarrier_spacing_hz=30e3)) == pytest.approx(
        2 * want, rel=1e-12)
    # a shift by whole subcarriers and the order of the indices change nothing
    assert float(crb.rms_bandwidth_hz(idx[::-1] - 1000)) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("set_name", ["off_centre", "comb4"])
@pytest.mark.parametrize("n,k", [(2, 12), (8, 13), (17, 120), (64, 1332)])
def test_crb_toa_with_rms_bandwidth(n, k, set_name):
    crb = crb_module()
    shift, comb = SUBCARRIER_SETS[set_name]
    snr, tau_l = snr_tau(n, k)
    _, ref_tau = ref_theta_tau(n, k, 0.2, snr, tau_l, set_name)
    rms = float(crb.rms_bandwidth_hz(fr.subcarrier_indices(k, shift=shift, comb=comb)))
    got = float(crb.crb_toa(comb * k * DF, n_antennas=n, snr=snr, n_loc_symbols=tau_l,
                            bound="achievable", rms_bandwidth_hz=rms))
    assert got == pytest.approx(ref_tau, rel=RTOL)
    if set_name == "off_centre":   # same as the centred contiguous set of the same K
        assert got == pytest.approx(float(crb.crb_toa(
            k * DF, n_antennas=n, snr=snr, n_loc_symbols=tau_l, bound="achievable")), rel=RTOL)


def test_crb_toa_achievable_rounds_the_subcarrier_count():
    crb = crb_module()
    kw = {"n_antennas": 4, "snr": 10.0, "n_loc_symbols": 3, "bound": "achievable"}
    exact = float(crb.crb_toa(120 * DF, **kw))
    assert float(crb.crb_toa(120.3 * DF, **kw)) == pytest.approx(exact, rel=1e-12)
    assert exact == pytest.approx(closed_crb_tau(flat_beta2(120), 4, 10.0, 3), rel=RTOL)
    k30 = float(crb.crb_toa(120 * 30e3, subcarrier_spacing_hz=30e3, **kw))
    assert k30 == pytest.approx(closed_crb_tau(flat_beta2(120, 30e3), 4, 10.0, 3), rel=RTOL)


# -- position -------------------------------------------------------------------------------
def ref_position(mode, n, k, theta, h, rho, snr, tau_l, set_name="centred", spacing_m=None):
    shift, comb = SUBCARRIER_SETS[set_name]
    return fr.crb_position_xy(mode, x_m=rho * np.cos(theta), y_m=rho * np.sin(theta),
                              height_diff_m=h, n_antennas=n,
                              freqs=fr.subcarrier_freqs(k, shift=shift, comb=comb), snr=snr,
                              n_loc_symbols=tau_l, spacing_m=spacing_m)


def ilac_position(n, k, theta, h, rho, snr, tau_l, varsigma, bound, direction,
                  spacing_m=None, **extra):
    crb = crb_module()
    loc_direction, dl_prs = direction
    return float(crb.crb_position(
        np.hypot(rho, h), theta, k * DF, tau_l, n_antennas=n, snr=snr, wavelength_m=LAM,
        spacing_m=spacing_m, varsigma=varsigma, bound=bound, height_diff_m=h,
        loc_direction=loc_direction, dl_prs=dl_prs, **extra))


def check_position(n, k, theta_deg, h, rho, directions=DIRECTIONS, varsigmas=VARSIGMA_ALL,
                   spacing_m=None):
    """Achievable against the FIM (all directions, both varsigma), paper against Eq. (7)."""
    theta = np.deg2rad(theta_deg)
    snr, tau_l = snr_tau(n, k, theta_deg, h, rho)
    r = np.hypot(rho, h)
    d = LAM / 2 if spacing_m is None else spacing_m
    bad = []
    for direction in directions:
        want = ref_position(MODE[direction], n, k, theta, h, rho, snr, tau_l,
                            spacing_m=spacing_m)
        for varsigma in varsigmas:
            got = ilac_position(n, k, theta, h, rho, snr, tau_l, varsigma, "achievable",
                                direction, spacing_m=spacing_m)
            if got != pytest.approx(want, rel=RTOL):
                bad.append((direction, varsigma, got, want, got / want - 1))
    for varsigma in varsigmas:
        paper = r**2 * paper_eq5(theta, n, snr, tau_l, d=d) + C**2 * paper_eq6(
            k * DF, n, snr, tau_l, varsigma)
        got = ilac_position(n, k, theta, h, rho, snr, tau_l, varsigma, "paper",
                            ("downlink", "orthogonal"), spacing_m=spacing_m)
        if got != pytest.approx(paper, rel=RTOL):
            bad.append(("paper", varsigma, got, paper, got / paper - 1))
    assert not bad, f"N={n} K={k} theta={theta_deg} h={h} rho={rho}: {bad}"


POSITION_SAMPLE = [
    (2, 12, -80.0, 0.0, 3.0), (3, 13, 0.0, 23.5, 10.0), (8, 120, 45.0, 5.0, 400.0),
    (17, 1332, -30.0, 0.0, 50.0), (64, 12, 45.0, 0.0, 3.0), (64, 13, 80.0, 5.0, 3.0),
    (64, 1332, -80.0, 23.5, 10.0), (8, 12, 0.0, 5.0, 50.0), (17, 120, 80.0, 23.5, 400.0),
    (3, 1332, 45.0, 0.0, 10.0),
]


@pytest.mark.parametrize("n,k,theta_deg,h,rho", POSITION_SAMPLE)
def test_position_against_fim_and_paper(n, k, theta_deg, h, rho):
    check_position(n, k, theta_deg, h, rho)


def test_position_other_spacing():
    check_position(8, 24, 30.0, 5.0, 20.0, spacing_m=0.4 * LAM)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_position_h0_is_the_chain_rule_of_the_achievable_bounds(direction):
    """h = 0: r^2 CRB_theta + c^2 CRB_tau with the uplink bounds, times N (3a) or 2 (3b)."""
    crb = crb_module()
    n, k, theta, rho, snr, tau_l = 8, 120, 0.5, 37.0, 20.0, 4.0
    common = {"n_antennas": n, "snr": snr, "n_loc_symbols": tau_l}
    aoa = float(crb.crb_aoa(theta, wavelength_m=LAM, bound="achievable", **common))
    toa = float(crb.crb_toa(k * DF, bound="achievable", **common))
    factor = {"uplink": 1.0, "orthogonal": float(n), "beamformed": 2.0}[MODE[direction]]
    got = ilac_position(n, k, theta, 0.0, rho, snr, tau_l, 1.0, "achievable", direction)
    assert got == pytest.approx(factor * (rho**2 * aoa + C**2 * toa), rel=RTOL)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("set_name", ["off_centre", "comb4"])
def test_position_with_rms_bandwidth(direction, set_name):
    crb = crb_module()
    shift, comb = SUBCARRIER_SETS[set_name]
    n, k, theta, h, rho, snr, tau_l = 8, 48, -0.6, 5.0, 30.0, 10.0, 2.0
    rms = float(crb.rms_bandwidth_hz(fr.subcarrier_indices(k, shift=shift, comb=comb)))
    want = ref_position(MODE[direction], n, k, theta, h, rho, snr, tau_l, set_name)
    got = ilac_position(n, k, theta, h, rho, snr, tau_l, 1.0, "achievable", direction,
                        rms_bandwidth_hz=rms)
    assert got == pytest.approx(want, rel=RTOL)


def test_position_other_subcarrier_spacing():
    """30 kHz subcarriers: K = round(B / 30 kHz), beta2 scales with the spacing squared."""
    crb = crb_module()
    n, k, theta, h, rho, snr, tau_l = 8, 48, 0.3, 5.0, 30.0, 10.0, 2.0
    want = fr.crb_position_xy("uplink", x_m=rho * np.cos(theta), y_m=rho * np.sin(theta),
                              height_diff_m=h, n_antennas=n,
                              freqs=fr.subcarrier_freqs(k, spacing_hz=30e3), snr=snr,
                              n_loc_symbols=tau_l)
    got = float(crb.crb_position(np.hypot(rho, h), theta, k * 30e3, tau_l, n_antennas=n,
                                 snr=snr, wavelength_m=LAM, bound="achievable",
                                 height_diff_m=h, loc_direction="uplink",
                                 subcarrier_spacing_hz=30e3))
    assert got == pytest.approx(want, rel=RTOL)


@pytest.mark.slow
@pytest.mark.parametrize("k", K_ALL)
@pytest.mark.parametrize("n", N_ALL)
def test_position_full_product(n, k):
    for theta_deg, h, rho in itertools.product(THETA_DEG_ALL, H_ALL, RHO_ALL):
        check_position(n, k, theta_deg, h, rho)
