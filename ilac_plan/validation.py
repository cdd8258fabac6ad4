"""Monte Carlo validation of the analytical model (``ilac-plan validate``).

The simulators here share no code with the closed forms: they draw channels, pilots,
noise and received signals, run the estimators, and measure. The analytical values they
are compared with come from :mod:`ilac_plan.model`.

Communication (Eq. 1)
    i.i.d. Rayleigh channel ``h ~ CN(0, beta I)``, ``tau_P`` uplink pilot symbols at the
    UE's SNR, MMSE estimate at the gNB, maximum-ratio precoding normalised on average at
    the gNB's SNR. The use-and-then-forget (UatF) bound ``|E g|^2 / (Var g + 1)`` is
    estimated from the samples of the effective gain ``g`` (Marzetta, Larsson, Yang 2016,
    Sec. 3), and so is the genie-aided ergodic rate ``E log2(1 + |g|^2)``.

Uplink and TDD (the ``uplink`` and ``tdd`` plugins' rates)
    The same channels and MMSE estimates; the uplink data at the UE's SNR, combined by
    maximum ratio on the estimate: the UatF bound ``rho |E a|^2 / (rho Var a + E e)`` with
    ``a = h_hat^H h`` and ``e = |h_hat|^2`` estimated from the samples, against Eq. (1)'s
    uplink counterpart (Marzetta, Larsson, Yang 2016, Sec. 3: the same form with
    ``rho_ul`` for ``rho_dl``). A reciprocity-TDD frame (a downlink part of ``D`` symbols,
    the ``tau_P`` pilots in the uplink part ``U``) carries ``D`` downlink and ``U - tau_P``
    uplink data symbols, simulated from the same channel draws, against
    ``B/tau_T [D ln(1 + x_dl) + (U - tau_P) ln(1 + x_ul)]``.

Positioning (Eqs. 4-6)
    A known OFDM reference signal over ``B_L`` (``12 x 15 kHz`` subcarriers per 180 kHz
    block, centred on the carrier) on every antenna of an ``N_T``-element ULA with spacing
    ``d_A``, from a UE at distance ``r`` (delay ``t = r/c``) and angle ``theta`` off
    broadside, for ``tau_L`` symbols, in white Gaussian noise. ``gamma`` is the SNR per
    antenna and symbol over the whole band (the paper's SNR; each subcarrier gets
    ``gamma/K``). The channel's complex gain (amplitude and carrier phase) is unknown and
    estimated jointly with ``t`` and ``theta``. The maximum-likelihood estimator maximises
    the concentrated likelihood ``|sum_n,k Z[n,k] e^{-j 2 pi (u n - f_k t)}|^2`` of the
    matched-filter output ``Z``: a zero-padded 2-D FFT search, then Newton steps. The
    position follows from Eq. (2).

    The Fisher information of this model is computed numerically (``model_crb``). It
    differs from the paper's Eqs. (5)-(6) by factors the report states: with an unknown
    phase the AoA bound is ``2 (2 N_T - 1)/(N_T + 1)`` times Eq. (5) (Eq. 5 counts the
    antenna positions from element 0, as if the phase were known), and a flat OFDM
    spectrum has a mean-square bandwidth of ``B_L^2/12``, while Eq. (6) with ``varsigma``
    assumes ``(1 + varsigma) B_L^2/3``: its delay bound is ``4 (1 + varsigma) K^2/(K^2 - 1)``
    times Eq. (6), 8 (9 dB) for ``varsigma = 1``. No band-limited signal reaches Eq. (6)
    with ``varsigma = 1``.
"""

import math

import numpy as np

from .model.capacity import capacity_closed_form, mr_capacity
from .model.crb import crb_aoa, crb_position, crb_toa
from .model.linkbudget import SPEED_OF_LIGHT_M_S

SUBCARRIER_HZ = 15e3
SUBCARRIERS_PER_BLOCK = 12
Z95 = 1.959963984540054


# ---- communication -------------------------------------------------------------------

def _crandn(rng, shape):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / math.sqrt(2.0)


def simulate_gains(rng, n_antennas, snr_dl, snr_ul, n_pilot_symbols, trials, chunk=1 << 21):
    """Samples of the effective downlink gain ``g`` of MR precoding on an MMSE estimate.

    Noise has unit variance and ``beta = 1`` (the SNRs carry the path gain). Trials are
    drawn in chunks of at most ``chunk`` channel coefficients to bound memory.
    """
    q = n_pilot_symbols * snr_ul                       # pilot energy over noise
    nu = q / (1.0 + q)                                 # E|h_hat_n|^2 of the MMSE estimate
    per = max(1, chunk // n_antennas)
    out = np.empty(trials, complex)
    for start in range(0, trials, per):
        m = min(per, trials - start)
        h = _crandn(rng, (m, n_antennas))
        y = math.sqrt(q) * h + _crandn(rng, (m, n_antennas))
        h_hat = (math.sqrt(q) / (1.0 + q)) * y
        out[start:start + m] = np.einsum("tn,tn->t", h_hat.conj(), h)
    return math.sqrt(snr_dl / (n_antennas * nu)) * out


def simulate_estimates(rng, n_antennas, snr_ul, n_pilot_symbols, trials, chunk=1 << 21):
    """Samples of ``a = h_hat^H h`` and ``e = |h_hat|^2`` (an MMSE estimate from
    ``n_pilot_symbols`` uplink pilots at ``snr_ul``), as the columns of a (trials, 2)
    complex array; unit noise and ``beta = 1``."""
    q = n_pilot_symbols * snr_ul
    per = max(1, chunk // n_antennas)
    out = np.empty((trials, 2), complex)
    for start in range(0, trials, per):
        m = min(per, trials - start)
        h = _crandn(rng, (m, n_antennas))
        y = math.sqrt(q) * h + _crandn(rng, (m, n_antennas))
        h_hat = (math.sqrt(q) / (1.0 + q)) * y
        out[start:start + m, 0] = np.einsum("tn,tn->t", h_hat.conj(), h)
        out[start:start + m, 1] = np.einsum("tn,tn->t", h_hat.conj(), h_hat).real
    return out


def _uatf_dl(samples, snr_dl, n_antennas, nu):
    """log2(1 + UatF SINR) of MR precoding from the samples of a (downlink)."""
    g = math.sqrt(snr_dl / (n_antennas * nu)) * samples[:, 0]
    mean = g.mean()
    return math.log2(1.0 + abs(mean) ** 2 / (np.mean(np.abs(g - mean) ** 2) + 1.0))


def _uatf_ul(samples, snr_ul):
    """log2(1 + UatF SINR) of MR combining from the samples of a and e (uplink)."""
    a, e = samples[:, 0], samples[:, 1].real
    mean = a.mean()
    var = np.mean(np.abs(a - mean) ** 2)
    return math.log2(1.0 + snr_ul * abs(mean) ** 2 / (snr_ul * var + e.mean()))


def frame_case(rng, snr_db, n_antennas, n_pilot_symbols, trials, dl_fraction, n_symbols=200,
               bandwidth_hz=20e6, eps=1.0):
    """Simulated UatF rate of a frame with a downlink part of round(dl_fraction x
    n_symbols) symbols (0: the uplink scheme; between 0 and 1: reciprocity TDD, the
    pilots in the uplink part) against its closed form. [bit/s]"""
    snr_dl = 10.0 ** (snr_db / 10.0)
    snr_ul = snr_dl / eps
    q = n_pilot_symbols * snr_ul
    nu = q / (1.0 + q)
    f = float(dl_fraction)
    d = math.floor(f * n_symbols + 0.5)
    u = n_symbols - d
    dl_data = d - max(n_pilot_symbols - u, 0)
    ul_data = max(u - n_pilot_symbols, 0)
    samples = simulate_estimates(rng, n_antennas, snr_ul, n_pilot_symbols, trials)
    per_symbol = bandwidth_hz / n_symbols

    def rate(s):
        dl = _uatf_dl(s, snr_dl, n_antennas, nu) if dl_data > 0 else 0.0
        ul = _uatf_ul(s, snr_ul) if ul_data > 0 else 0.0
        return per_symbol * (dl_data * dl + ul_data * ul)

    common = dict(n_antennas=n_antennas, snr_ul=snr_ul, n_symbols=n_symbols)
    dl = float(mr_capacity(bandwidth_hz, dl_data + n_pilot_symbols, n_pilot_symbols,
                           snr_dl=snr_dl, **common))
    ul = float(mr_capacity(bandwidth_hz, ul_data + n_pilot_symbols, n_pilot_symbols,
                           snr_dl=snr_ul, **common))
    closed = dl + ul
    sim, ci = _jackknife(rate, samples)
    return {
        "kind": "uplink" if f == 0.0 else "tdd",
        "inputs": {"snr_db": snr_db, "n_antennas": n_antennas,
                   "n_pilot_symbols": n_pilot_symbols, "n_symbols": n_symbols,
                   "bandwidth_hz": bandwidth_hz, "eps": eps, "dl_fraction": f,
                   "dl_data_symbols": dl_data, "ul_data_symbols": ul_data, "trials": trials},
        "analytical": {"rate_bps": closed, "downlink_bps": dl, "uplink_bps": ul},
        "simulated": {"uatf_bps": sim, "uatf_ci95": list(ci)},
        "ratio": {"uatf_over_closed_form": sim / closed},
    }


def network_case(rng, snr_db, measurements, trials, radius_m=300.0, n_antennas=8,
                 loc_bandwidth_hz=5e6, n_loc_symbols=1, iterations=12):
    """Maximum-likelihood position from three cells' ToA and AoA measurements against the
    fused bound of :mod:`ilac_plan.model.network`. [m^2]

    Three cells 120 deg apart on a circle, the UE off-centre; each cell's range and
    array-angle measurements are drawn with the variances of its Fisher information
    (Eqs. 5-6 at the cell's SNR, free-space falling off with distance from ``snr_db`` at
    ``radius_m``); TDoA adds an unknown common clock offset. The estimator is a
    Gauss-Newton weighted least squares (the ML for Gaussian measurements) over the
    position (and the offset), from the cells' centroid; its MSE is compared with
    ``tr J^-1``.
    """
    from .model.crb import angle_information, delay_mean_square_bandwidth_hz2
    from .model.network import network_crb_m2

    ang = np.deg2rad([90.0, 210.0, 330.0])
    cells = radius_m * np.stack([np.cos(ang), np.sin(ang)], axis=1)
    p0 = np.array([0.25 * radius_m, -0.1 * radius_m])
    az = ang + np.deg2rad([20.0, -35.0, 60.0])        # arrays not quite facing the UE
    axis = np.stack([np.cos(az), np.sin(az)], axis=1)
    d = p0 - cells
    rho = np.hypot(d[:, 0], d[:, 1])
    snr = 10.0 ** (snr_db / 10.0) * (radius_m / rho) ** 2
    lam = SPEED_OF_LIGHT_M_S / 2.6e9
    j_u = angle_information(n_antennas, lam / 2, lam) * snr * n_loc_symbols
    j_t = 8 * np.pi**2 * n_antennas * snr * n_loc_symbols * \
        delay_mean_square_bandwidth_hz2(loc_bandwidth_hz, bound="paper")
    crb = float(network_crb_m2(d[:, 0], d[:, 1], axis_x=axis[:, 0], axis_y=axis[:, 1],
                               angle_info=j_u, delay_info_hz2=j_t, measurements=measurements))
    sd_r = SPEED_OF_LIGHT_M_S / np.sqrt(j_t)
    sd_u = 1.0 / np.sqrt(j_u)
    use_range = measurements != "aoa"
    bias = 37.0 if measurements == "tdoa" else 0.0        # the unknown clock offset [m]

    def model(p, b):
        dd = p[:, None, :] - cells[None, :, :]
        r = np.hypot(dd[..., 0], dd[..., 1])
        u = (dd * axis[None]).sum(-1) / r
        return r + b[:, None], u, dd, r

    _, u0, _, _ = model(p0[None, :], np.zeros(1))
    meas_r = rho[None, :] + bias + sd_r * rng.standard_normal((trials, 3))
    meas_u = u0 + sd_u * rng.standard_normal((trials, 3))
    p = np.tile(cells.mean(axis=0), (trials, 1))
    b = np.zeros(trials)
    for _ in range(iterations):
        r_hat, u_hat, dd, r = model(p, b)
        g_r = dd / r[..., None]                                        # d r / d p
        g_u = axis[None] / r[..., None] - (u_hat / r)[..., None] * dd / r[..., None]
        rows, res, w = [g_u], [meas_u - u_hat], [np.broadcast_to(1 / sd_u**2, (trials, 3))]
        if use_range:
            rows.insert(0, g_r)
            res.insert(0, meas_r - r_hat)
            w.insert(0, np.broadcast_to(1 / sd_r**2, (trials, 3)))
        jac = np.concatenate(rows, axis=1)                              # (trials, m, 2)
        if measurements == "tdoa":
            extra = np.concatenate([np.ones((trials, 3)), np.zeros((trials, 3))], axis=1)
            jac = np.concatenate([jac, extra[..., None]], axis=2)
        wv = np.concatenate(w, axis=1)
        rv = np.concatenate(res, axis=1)
        normal = np.einsum("tmi,tm,tmj->tij", jac, wv, jac)
        step = np.linalg.solve(normal, np.einsum("tmi,tm,tm->ti", jac, wv, rv)[..., None])[..., 0]
        p = p + step[:, :2]
        if measurements == "tdoa":
            b = b + step[:, 2]
    err2 = ((p - p0) ** 2).sum(axis=1)
    mse, ci = _jackknife(lambda e: float(np.mean(e)), err2)
    return {
        "kind": "network",
        "inputs": {"snr_db": snr_db, "measurements": measurements, "trials": trials,
                   "radius_m": radius_m, "n_antennas": n_antennas,
                   "loc_bandwidth_hz": loc_bandwidth_hz, "n_loc_symbols": n_loc_symbols},
        "position_m2": {"simulated": mse, "simulated_ci95": list(ci), "fused_crb": crb,
                        "ratio": mse / crb},
    }


def _jackknife(stat, samples, n_batches=20):
    """Estimate and 95 % confidence interval of stat(samples) by a batch jackknife."""
    full = stat(samples)
    batches = np.array_split(np.arange(samples.shape[0]), n_batches)
    leave = np.array([stat(np.delete(samples, b, axis=0)) for b in batches])
    pseudo = n_batches * full - (n_batches - 1) * leave
    est = float(pseudo.mean())
    half = Z95 * float(pseudo.std(ddof=1)) / math.sqrt(n_batches)
    return est, (est - half, est + half)


def communication_case(rng, snr_db, n_antennas, n_pilot_symbols, trials, n_symbols=200,
                       bandwidth_hz=20e6, eps=1.0):
    """Simulated UatF and genie rates against Eq. (1) and Eq. (18) for one link. [bit/s]"""
    snr_dl = 10.0 ** (snr_db / 10.0)
    snr_ul = snr_dl / eps
    g = simulate_gains(rng, n_antennas, snr_dl, snr_ul, n_pilot_symbols, trials)
    frame = bandwidth_hz * (n_symbols - n_pilot_symbols) / n_symbols

    def uatf(s):
        mean = s.mean()
        return frame * math.log2(1.0 + abs(mean) ** 2 / (np.mean(np.abs(s - mean) ** 2) + 1.0))

    def genie(s):
        return frame * float(np.mean(np.log2(1.0 + np.abs(s) ** 2)))

    link = dict(n_antennas=n_antennas, snr_dl=snr_dl, snr_ul=snr_ul, n_symbols=n_symbols)
    eq1 = float(mr_capacity(bandwidth_hz, n_symbols, n_pilot_symbols, **link))
    eq18 = float(capacity_closed_form(bandwidth_hz, n_symbols, **link))
    sim, ci = _jackknife(uatf, g)
    gen, gen_ci = _jackknife(genie, g)
    return {
        "kind": "communication",
        "inputs": {"snr_db": snr_db, "n_antennas": n_antennas,
                   "n_pilot_symbols": n_pilot_symbols, "n_symbols": n_symbols,
                   "bandwidth_hz": bandwidth_hz, "eps": eps, "trials": trials},
        "analytical": {"eq1_bps": eq1, "eq18_bps": eq18},
        "simulated": {"uatf_bps": sim, "uatf_ci95": list(ci), "genie_bps": gen,
                      "genie_ci95": list(gen_ci)},
        "ratio": {"uatf_over_eq1": sim / eq1, "uatf_over_eq18": sim / eq18,
                  "genie_over_eq1": gen / eq1},
    }


# ---- positioning ---------------------------------------------------------------------

def subcarrier_offsets_hz(loc_bandwidth_hz):
    """Centred subcarrier frequencies of whole 180 kHz blocks (12 x 15 kHz). [Hz]"""
    k = int(round(loc_bandwidth_hz / (SUBCARRIERS_PER_BLOCK * SUBCARRIER_HZ))) * \
        SUBCARRIERS_PER_BLOCK
    if k < SUBCARRIERS_PER_BLOCK:
        raise ValueError("loc_bandwidth_hz must be at least one 180 kHz block")
    return (np.arange(k) - (k - 1) / 2.0) * SUBCARRIER_HZ


def received(rng, gamma, n_antennas, spacing_wl, f, t, theta, n_symbols, trials):
    """Matched-filter output Z[trial, n, k] over tau_L symbols (noise variance 1 per RE)."""
    k = f.size
    amp = math.sqrt(gamma / k)
    u = spacing_wl * math.sin(theta)
    n = np.arange(n_antennas)
    phase = rng.uniform(0, 2 * np.pi, trials)           # the unknown carrier phase
    clean = amp * np.exp(1j * (phase[:, None, None] + 2 * np.pi * (
        u * n[None, :, None] - f[None, None, :] * t)))
    z = np.zeros((trials, n_antennas, k), complex)
    for _ in range(n_symbols):                          # known unit-modulus PRS symbols
        z += clean + _crandn(rng, clean.shape)
    return z / n_symbols


def ml_estimate(z, f, n_newton=12, pad=4):
    """ML estimates of (u, t) per trial: 2-D FFT search, then Newton on the periodogram.

    ``u = d sin(theta) / lambda``; returns arrays ``u_hat`` and ``t_hat`` [s].
    """
    trials, n_ant, k = z.shape
    df = f[1] - f[0]
    nu, nt = pad * max(n_ant, 16), pad * k
    # S(u, t) = sum_n,k z exp(-j 2 pi u n) exp(+j 2 pi f_k t)
    spec = np.fft.fft(z, n=nu, axis=1)                  # over antennas: exp(-j 2 pi u n)
    spec = np.fft.ifft(spec * 1.0, n=nt, axis=2) * nt   # over subcarriers: exp(+j 2 pi k df t)
    power = np.abs(spec) ** 2
    flat = power.reshape(trials, -1).argmax(axis=1)
    iu, it = np.unravel_index(flat, (nu, nt))
    u = np.where(iu < nu / 2, iu, iu - nu) / nu
    t = it / (nt * df)
    t = np.where(t > 0.5 / df, t - 1.0 / df, t)         # delays in [-T/2, T/2)
    n = np.arange(n_ant)[None, :, None]
    fk = f[None, None, :]
    w_u, w_t = -2j * np.pi * n, 2j * np.pi * fk
    for _ in range(n_newton):
        e = np.exp(-2j * np.pi * u[:, None, None] * n + 2j * np.pi * fk * t[:, None, None])
        ze = z * e
        s = ze.sum(axis=(1, 2))
        su, st = (ze * w_u).sum(axis=(1, 2)), (ze * w_t).sum(axis=(1, 2))
        suu, stt = (ze * w_u**2).sum(axis=(1, 2)), (ze * w_t**2).sum(axis=(1, 2))
        sut = (ze * w_u * w_t).sum(axis=(1, 2))
        gu = 2 * np.real(np.conj(s) * su)
        gt = 2 * np.real(np.conj(s) * st)
        huu = 2 * np.real(np.conj(su) * su + np.conj(s) * suu)
        htt = 2 * np.real(np.conj(st) * st + np.conj(s) * stt)
        hut = 2 * np.real(np.conj(su) * st + np.conj(s) * sut)
        det = huu * htt - hut**2
        ok = (det > 0) & (huu < 0)                      # a maximum: take the Newton step
        du = np.where(ok, -(htt * gu - hut * gt) / np.where(ok, det, 1.0), 0.0)
        dt = np.where(ok, -(huu * gt - hut * gu) / np.where(ok, det, 1.0), 0.0)
        # never step further than the coarse grid spacing
        u = u + np.clip(du, -1.0 / nu, 1.0 / nu)
        t = t + np.clip(dt, -1.0 / (nt * df), 1.0 / (nt * df))
    return u, t


def model_crb(gamma, n_antennas, spacing_wl, f, t, theta, n_symbols):
    """CRB of (theta, t) of the simulated model, from its Fisher information.

    Parameters ``(t, theta, Re alpha, Im alpha)``; the derivatives of the mean signal are
    taken analytically and the information matrix ``2 tau_L Re(D^H D)`` is inverted.

    Returns
    -------
    crb_theta [rad^2], crb_t [s^2]
    """
    k = f.size
    amp = math.sqrt(gamma / k)
    n = np.arange(n_antennas)[:, None]
    e = np.exp(2j * np.pi * (spacing_wl * math.sin(theta) * n - f[None, :] * t)).ravel()
    d_t = (amp * e * (-2j * np.pi * np.broadcast_to(f[None, :], (n_antennas, k)).ravel()))
    d_theta = amp * e * (2j * np.pi * spacing_wl * math.cos(theta)
                         * np.broadcast_to(n, (n_antennas, k)).ravel())
    d = np.column_stack([d_t, d_theta, e, 1j * e])
    fim = 2.0 * n_symbols * np.real(d.conj().T @ d)
    inv = np.linalg.inv(fim)
    return float(inv[1, 1]), float(inv[0, 0])


def _mse(err):
    sq = np.asarray(err) ** 2
    m = float(sq.mean())
    half = Z95 * float(sq.std(ddof=1)) / math.sqrt(sq.size)
    return m, [m - half, m + half]


def positioning_case(rng, snr_db, n_antennas, loc_bandwidth_hz, n_loc_symbols, trials,
                     distance_m=300.0, theta_deg=20.0, carrier_hz=2.6e9, varsigma=1.0):
    """ML estimation of (theta, t) and position against Eqs. (4)-(6) for one link."""
    gamma = 10.0 ** (snr_db / 10.0)
    lam = SPEED_OF_LIGHT_M_S / carrier_hz
    spacing_wl = 0.5
    f = subcarrier_offsets_hz(loc_bandwidth_hz)
    theta = math.radians(theta_deg)
    t = distance_m / SPEED_OF_LIGHT_M_S
    z = received(rng, gamma, n_antennas, spacing_wl, f, t, theta, n_loc_symbols, trials)
    u_hat, t_hat = ml_estimate(z, f)
    theta_hat = np.arcsin(np.clip(u_hat / spacing_wl, -1.0, 1.0))
    r_hat = SPEED_OF_LIGHT_M_S * t_hat
    # Eq. (2), theta measured from the axis the ULA's broadside points along
    x, y = distance_m * math.cos(theta), distance_m * math.sin(theta)
    pos_err = np.hypot(r_hat * np.cos(theta_hat) - x, r_hat * np.sin(theta_hat) - y)
    paper_theta = float(crb_aoa(theta, n_antennas=n_antennas, snr=gamma,
                                n_loc_symbols=n_loc_symbols, wavelength_m=lam))
    paper_t = float(crb_toa(f.size * SUBCARRIER_HZ, n_antennas=n_antennas, snr=gamma,
                            n_loc_symbols=n_loc_symbols, varsigma=varsigma))
    paper_l = distance_m**2 * paper_theta + SPEED_OF_LIGHT_M_S**2 * paper_t
    mod_theta, mod_t = model_crb(gamma, n_antennas, spacing_wl, f, t, theta, n_loc_symbols)
    mod_l = distance_m**2 * mod_theta + SPEED_OF_LIGHT_M_S**2 * mod_t
    # the closed form of the achievable bound (docs/model.md, "Two bounds"): receive array
    achievable = dict(n_antennas=n_antennas, snr=gamma, n_loc_symbols=n_loc_symbols,
                      bound="achievable")
    ach_theta = float(crb_aoa(theta, wavelength_m=lam, **achievable))
    ach_t = float(crb_toa(f.size * SUBCARRIER_HZ, subcarrier_spacing_hz=SUBCARRIER_HZ,
                          **achievable))
    ach_l = float(crb_position(distance_m, theta, f.size * SUBCARRIER_HZ, wavelength_m=lam,
                               loc_direction="uplink", subcarrier_spacing_hz=SUBCARRIER_HZ,
                               **achievable))
    out = {"kind": "positioning",
           "inputs": {"snr_db": snr_db, "n_antennas": n_antennas,
                      "loc_bandwidth_hz": float(f.size * SUBCARRIER_HZ),
                      "n_subcarriers": int(f.size), "n_loc_symbols": n_loc_symbols,
                      "distance_m": distance_m, "theta_deg": theta_deg,
                      "carrier_hz": carrier_hz, "varsigma": varsigma, "trials": trials}}
    for name, errors, paper, model, ach in (
            ("theta_rad2", theta_hat - theta, paper_theta, mod_theta, ach_theta),
            ("t_s2", t_hat - t, paper_t, mod_t, ach_t),
            ("position_m2", pos_err, paper_l, mod_l, ach_l)):
        mse, ci = _mse(errors)
        out[name] = {"analytical": paper, "achievable": ach, "model_crb": model,
                     "simulated": mse, "simulated_ci95": ci, "ratio": mse / paper,
                     "ratio_to_achievable": mse / ach, "ratio_to_model_crb": mse / model,
                     "model_over_paper": model / paper, "achievable_over_model": ach / model}
    return out


# ---- the whole validation ----------------------------------------------------------------

COMM_GRID = {"snr_db": (-10.0, 0.0, 10.0, 20.0, 30.0), "n_antennas": (2, 8, 32, 128),
             "n_pilot_symbols": (1, 4, 16)}
#: Uplink (dl_fraction 0) and TDD frames; eps = rho_dl / rho_ul (100: the uplink 20 dB
#: below the downlink, a macro cell).
FRAME_GRID = {"snr_db": (-10.0, 0.0, 10.0, 20.0), "n_antennas": (8, 64), "n_pilot_symbols": (4,),
              "dl_fraction": (0.0, 0.5), "eps": (1.0, 100.0)}
POS_GRID = {"snr_db": (-20.0, -10.0, -5.0, 0.0, 5.0, 10.0, 20.0, 30.0),
            "n_antennas": (8, 16), "loc_bandwidth_hz": (1.8e6,), "n_loc_symbols": (2,)}
#: Ratio of the position MSE to the model's CRB_L below which a case counts as above the
#: threshold (1 dB).
ONE_DB = 10 ** 0.1


def threshold_snr_db(cases):
    """Per positioning configuration, the lowest SNR from which every case is within 1 dB
    of the achievable CRB_L (None if the highest SNR is not)."""
    groups = {}
    for c in cases:
        if c["kind"] != "positioning":
            continue
        key = tuple((k, v) for k, v in c["inputs"].items() if k not in ("snr_db", "trials"))
        groups.setdefault(key, []).append(c)
    out = []
    for key, items in groups.items():
        items.sort(key=lambda c: c["inputs"]["snr_db"])
        above = None
        for c in reversed(items):
            if 1.0 / ONE_DB <= c["position_m2"]["ratio_to_achievable"] <= ONE_DB:
                above = c["inputs"]["snr_db"]
            else:
                break
        out.append({"inputs": dict(key), "threshold_snr_db": above})
    return out


def validate(trials=40000, seed=0, comm_grid=None, pos_grid=None, pos_trials=None,
             frame_grid=None):
    """Run every case; return the report (a JSON-ready dict).

    Parameters
    ----------
    trials : int
        Monte Carlo trials per communication case with 64 antennas or more (``64 / N_T``
        times as many with fewer antennas); positioning: ``pos_trials``, default
        ``trials // 80``, at least 200.
    seed : int
        Seed of numpy's default generator: the report is reproducible.
    comm_grid, pos_grid, frame_grid : dict, optional
        Case grids (see :data:`COMM_GRID`, :data:`POS_GRID`, :data:`FRAME_GRID`).
    """
    if int(trials) < 100:
        raise ValueError("trials must be at least 100")
    rng = np.random.default_rng(seed)
    comm_grid = comm_grid or COMM_GRID
    pos_grid = pos_grid or POS_GRID
    pos_trials = pos_trials or max(trials // 80, 200)
    cases = []
    for snr in comm_grid["snr_db"]:
        for n in comm_grid["n_antennas"]:
            for tp in comm_grid["n_pilot_symbols"]:
                # the gain fluctuates more with few antennas (no channel hardening): draw
                # more trials there, the same number of channel coefficients per case
                per_case = int(trials) * max(1, 64 // n)
                cases.append(communication_case(rng, snr, n, tp, per_case))
    for snr in (-10.0, 10.0):
        for mode in ("toa_aoa", "tdoa"):
            cases.append(network_case(rng, snr, mode, max(int(trials) // 10, 500)))
    frame_grid = frame_grid or FRAME_GRID
    for snr in frame_grid["snr_db"]:
        for n in frame_grid["n_antennas"]:
            for tp in frame_grid["n_pilot_symbols"]:
                for f in frame_grid["dl_fraction"]:
                    for eps in frame_grid["eps"]:
                        cases.append(frame_case(rng, snr, n, tp, int(trials) * max(1, 64 // n),
                                                f, eps=eps))
    for snr in pos_grid["snr_db"]:
        for n in pos_grid["n_antennas"]:
            for b in pos_grid["loc_bandwidth_hz"]:
                for tl in pos_grid["n_loc_symbols"]:
                    cases.append(positioning_case(rng, snr, n, b, tl, int(pos_trials)))
    return {"seed": seed, "trials": int(trials), "positioning_trials": int(pos_trials),
            "signal_model": __doc__, "thresholds": threshold_snr_db(cases), "cases": cases}


def plot_report(report, path):
    """Two panels: simulated / analytical communication rates against SNR, and position
    MSE against SNR with the paper's and the model's CRB_L (the threshold region shows)."""
    from matplotlib.figure import Figure

    from ._io import atomic_path

    fig = Figure(figsize=(12, 4.6), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    comm = [c for c in report["cases"] if c["kind"] == "communication"]
    for k, n in enumerate(sorted({c["inputs"]["n_antennas"] for c in comm})):
        sel = [c for c in comm if c["inputs"]["n_antennas"] == n
               and c["inputs"]["n_pilot_symbols"] == min(x["inputs"]["n_pilot_symbols"]
                                                          for x in comm)]
        snr = [c["inputs"]["snr_db"] for c in sel]
        ax1.plot(snr, [c["ratio"]["uatf_over_eq1"] for c in sel], "o-", color=f"C{k}",
                 label=f"UatF / Eq. (1), N_T={n}")
        ax1.plot(snr, [c["ratio"]["genie_over_eq1"] for c in sel], "s:", color=f"C{k}",
                 label=f"genie / Eq. (1), N_T={n}")
    ax1.axhline(1.0, color="k", lw=0.8)
    ax1.set_yscale("log")
    ax1.set_xlabel("SNR rho_dl beta [dB]")
    ax1.set_ylabel("simulated / analytical rate")
    ax1.legend(fontsize=7)
    ax1.set_title("communication: Monte Carlo vs Eq. (1)")
    pos = [c for c in report["cases"] if c["kind"] == "positioning"]
    for k, n in enumerate(sorted({c["inputs"]["n_antennas"] for c in pos})):
        sel = sorted((c for c in pos if c["inputs"]["n_antennas"] == n),
                     key=lambda c: c["inputs"]["snr_db"])
        snr = [c["inputs"]["snr_db"] for c in sel]
        db = lambda v: 10 * np.log10(v)  # noqa: E731
        ax2.plot(snr, [db(c["position_m2"]["simulated"]) for c in sel], "o-", color=f"C{k}",
                 label=f"ML position MSE, N_T={n}")
        ax2.plot(snr, [db(c["position_m2"]["achievable"]) for c in sel], "--", color=f"C{k}",
                 label="achievable CRB_L (closed form)")
        ax2.plot(snr, [db(c["position_m2"]["analytical"]) for c in sel], ":", color=f"C{k}",
                 label="CRB_L, paper Eqs. (4)-(6)")
    ax2.set_xlabel("SNR gamma per antenna and symbol [dB]")
    ax2.set_ylabel("mean squared position error [dB re 1 m^2]")
    ax2.legend(fontsize=7)
    ax2.set_title("positioning: ML vs CRB (threshold at low SNR)")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
