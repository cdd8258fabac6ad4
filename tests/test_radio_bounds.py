"""Bounds, energy conventions, antennas, wrap-around and tabulated path loss in the kernel.

The kernel against the brute-force numpy reference in every new mode; the energy
conventions' identities (a comb is the time split, whole-band positioning is unchanged);
the corrected Theorem 2 under both bounds against its definition; wrap-around against a
nearest-image sum; the plan format under ``epre="equal"``.
"""

import numpy as np
import pandas as pd
import pytest
from coverage_reference import reference_evaluate
from test_coverage import assert_matches_reference, random_points, random_sites

import ilac_plan as ip
from ilac_plan.coverage import evaluate
from ilac_plan.errors import ParameterError
from ilac_plan.layouts import hexagonal_layout, wrap_around, wrap_shifts_m
from ilac_plan.model import PathLossModel, free_space
from ilac_plan.model.antenna import antenna_attenuation_db
from ilac_plan.model.crb import crb_position, flat_rms_bandwidth_hz, rms_bandwidth_hz
from ilac_plan.model.losses import frequency_crb_loss_closed_form
from ilac_plan.hookspecs import hookimpl
from ilac_plan.schemes import ResourcePlan, Scheme, SchemeResult
from ilac_plan.testing import registered

RADIO = ip.RadioParams()

MODES = [
    dict(bound="achievable", target_error_m=1.0),
    dict(bound="achievable", dl_prs="beamformed", max_capacity_loss=0.1),
    dict(bound="achievable", epre="equal", target_error_m=3.0, antenna="3gpp"),
    dict(bound="paper", epre="equal", max_capacity_loss=0.2, antenna="omni"),
    dict(bound="achievable", antenna="3gpp", interference=True, target_error_m=2.0),
]


@pytest.mark.parametrize("kw", MODES)
@pytest.mark.parametrize("seed,n_cells", [(3, 1), (4, 7), (5, 30)])
def test_kernel_matches_the_reference_under_every_bound_and_antenna(seed, n_cells, kw):
    rng = np.random.default_rng(seed)
    sites = random_sites(rng, n_cells, spacing_m=rng.uniform(0.03, 0.2, n_cells),
                         gain_dbi=rng.uniform(0, 10, n_cells),
                         height_m=rng.uniform(0, 40, n_cells),
                         tilt_deg=rng.uniform(-5, 15, n_cells),
                         electrical_tilt_deg=rng.uniform(0, 10, n_cells))
    x, y = random_points(rng, 500)
    df = evaluate(sites, x, y, radio=RADIO, ue_height_m=1.5, **kw)
    ref = reference_evaluate(sites, x, y, radio=RADIO, ue_height_m=1.5, **kw)
    assert_matches_reference(df, ref)


@pytest.mark.parametrize("kw", [dict(target_error_m=1.0),
                                dict(bound="achievable", interference=True, target_error_m=2.0),
                                dict(max_capacity_loss=0.1, positioning="network", n_cells=3)])
def test_vertical_panels_match_the_reference(kw):
    """Cells of 1 to 12 rows (TR 38.901 panels steered by the electrical tilt) on the
    kernel equal the numpy reference (serving cell, link state, schemes)."""
    rng = np.random.default_rng(21)
    n = 12
    sites = random_sites(rng, n, height_m=rng.uniform(10, 40, n),
                         tilt_deg=rng.uniform(-3, 6, n),
                         electrical_tilt_deg=rng.uniform(0, 15, n),
                         panel_rows=rng.integers(1, 13, n),
                         panel_spacing_wavelengths=rng.uniform(0.4, 0.9, n))
    x, y = random_points(rng, 600)
    df = evaluate(sites, x, y, radio=RADIO, ue_height_m=1.5, antenna="3gpp", **kw)
    if kw.get("positioning"):     # network positioning runs; its serving cells: numpy's
        assert np.isfinite(df.time_error_m).all()
        from ilac_plan.network import network_bound
        single = evaluate(sites, x, y, radio=RADIO, ue_height_m=1.5, antenna="3gpp",
                          schemes=())
        ref = network_bound(sites, x, y, n_cells=1, antenna="3gpp", ue_height_m=1.5)
        assert np.array_equal(ref["serving_cell"], single.serving_cell.to_numpy())
        return
    ref = reference_evaluate(sites, x, y, radio=RADIO, ue_height_m=1.5, antenna="3gpp", **kw)
    assert_matches_reference(df, ref)


def test_panel_gain_peaks_in_the_tilted_direction():
    """A 10-row panel at 0.5 lambda tilted 12 deg: towards its beam the attenuation is the
    element's there less 10 dB; one row is the steered element of old."""
    from ilac_plan.model.antenna import antenna_attenuation_db, panel_gain_db

    dz = -100.0 * np.tan(np.deg2rad(12.0))            # 12 deg below the horizon
    att = antenna_attenuation_db(0.0, 100.0, dz, azimuth_deg=0.0, electrical_tilt_deg=12.0,
                                 panel_rows=10)
    assert att == pytest.approx(12 * (12 / 65) ** 2 - 10.0, abs=1e-9)
    one = antenna_attenuation_db(30.0, 100.0, -20.0, azimuth_deg=0.0, electrical_tilt_deg=7.0)
    assert antenna_attenuation_db(30.0, 100.0, -20.0, azimuth_deg=0.0, electrical_tilt_deg=7.0,
                                  panel_rows=1) == one
    # the closed form against the direct sum over the rows
    cz = np.linspace(-1.0, 1.0, 2001)
    k = np.arange(7)[:, None]
    w = np.exp(-2j * np.pi * k * 0.7 * np.cos(np.deg2rad(90 + 9.0))) / np.sqrt(7)
    direct = np.abs((w * np.exp(2j * np.pi * k * 0.7 * cz)).sum(axis=0)) ** 2
    np.testing.assert_allclose(10 ** (panel_gain_db(cz, 7, 0.7, 9.0) / 10), direct,
                               rtol=1e-9, atol=1e-12)


def test_tabulated_path_loss_runs_in_the_kernel_as_in_numpy():
    fs = free_space(RADIO.carrier_hz)
    # free space plus a smooth extra loss no log-distance term can express
    model = PathLossModel.tabulated(
        "bumpy", lambda d: fs.path_loss_db(d) + 3.0 * np.tanh(np.log10(d) - 2.0) + 3.0,
        min_distance_m=1.0, max_distance_m=2e4, nodes_per_decade=50)
    rng = np.random.default_rng(8)
    sites = random_sites(rng, 30, height_m=rng.uniform(5, 30, 30))
    x, y = random_points(rng, 800)
    for prune in (False, True):
        df = evaluate(sites, x, y, radio=RADIO, propagation=model, prune=prune,
                      target_error_m=1.0)
        ref = reference_evaluate(sites, x, y, radio=RADIO, propagation=model,
                                 target_error_m=1.0)
        assert_matches_reference(df, ref)
    # beyond the table the last segment is extrapolated: still finite and rising
    far = model.path_loss_db(np.array([2e4, 4e4, 8e4]))
    assert np.all(np.diff(far) > 0)


def test_a_falling_table_widens_the_pruning_margin_and_pruning_stays_exact():
    fs = free_space(RADIO.carrier_hz)
    model = PathLossModel.tabulated("step", lambda d: fs.path_loss_db(d) - 6.0 * (d > 300.0),
                                    min_distance_m=1.0, max_distance_m=1e5,
                                    nodes_per_decade=100)
    step = 10 ** (1 / 100)                       # one node spacing at 300 m
    assert model.drop_db() == pytest.approx(6.0 - 20 * np.log10(step), rel=1e-9)
    rng = np.random.default_rng(12)
    sites = random_sites(rng, 40)
    x, y = random_points(rng, 4000)
    a = evaluate(sites, x, y, propagation=model, prune=True, schemes=[])
    b = evaluate(sites, x, y, propagation=model, prune=False, schemes=[])
    pd.testing.assert_frame_equal(a, b)


def test_whole_band_positioning_is_the_same_under_both_energy_conventions():
    """epre only changes a positioning signal that occupies part of the band: the time
    split's results are bit-identical."""
    rng = np.random.default_rng(1)
    sites = random_sites(rng, 12, height_m=25.0)
    x, y = random_points(rng, 3000)
    for bound in ("paper", "achievable"):
        a = evaluate(sites, x, y, schemes=["time"], bound=bound, epre="paper")
        b = evaluate(sites, x, y, schemes=["time"], bound=bound, epre="equal")
        pd.testing.assert_frame_equal(a, b)
        f_a = evaluate(sites, x, y, schemes=["frequency"], bound=bound, epre="paper")
        f_b = evaluate(sites, x, y, schemes=["frequency"], bound=bound, epre="equal")
        # the same target needs at least as many resource blocks when they carry only
        # their share of the power, and leaves at most as much capacity
        assert (f_b.frequency_loc_share >= f_a.frequency_loc_share).all()
        assert (f_b.frequency_loc_share > f_a.frequency_loc_share).mean() > 0.5
        assert (f_b.frequency_capacity_bps <= f_a.frequency_capacity_bps).all()


class CombSplit(Scheme):
    """Positioning on every k-th resource block over the whole band, in every symbol."""

    name = "comb_test"
    description = "comb of every k-th resource block (test)"

    def __init__(self, k, rms_hz=None):
        self.k, self.rms_hz = k, rms_hz

    def plan(self, radio):
        tau_t, b = radio.n_symbols, radio.bandwidth_hz
        share = np.array([0.0, 1.0 / self.k])
        return ResourcePlan(loc_share=share, comm_bandwidth_hz=b * (1 - share),
                            comm_symbols=tau_t, loc_bandwidth_hz=b * share,
                            loc_symbols=np.array([0.0, tau_t]), loc_span_hz=b,
                            loc_rms_bandwidth_hz=self.rms_hz)


class TimeBlock(Scheme):
    name = "time_block_test"
    description = "a time split with k-th of the symbols (test)"

    def __init__(self, k):
        self.k = k

    def plan(self, radio):
        tau_t = radio.n_symbols
        return ResourcePlan(loc_share=np.array([0.0, 1.0 / self.k]),
                            comm_bandwidth_hz=radio.bandwidth_hz,
                            comm_symbols=np.array([tau_t, tau_t - tau_t / self.k]),
                            loc_bandwidth_hz=radio.bandwidth_hz,
                            loc_symbols=np.array([0.0, tau_t / self.k]))


class _Schemes:
    """A plugin object registering the given schemes (with ilac_plan.testing.registered)."""

    def __init__(self, *schemes):
        self.schemes = schemes

    @hookimpl
    def ilac_register_schemes(self, register):
        for scheme in self.schemes:
            register(scheme)


@pytest.mark.parametrize("k", [2, 4, 10])
def test_a_comb_is_the_time_split_with_the_same_resource_elements(k):
    """Under equal energy per resource element a comb of every k-th block over the band
    gives the CRB of the time split on 1/k of the symbols (paper's bound: same span;
    achievable bound: the same spectrum, i.e. the comb's rms bandwidth set to the band's)."""
    rng = np.random.default_rng(k)
    sites = random_sites(rng, 5, height_m=20.0)
    x, y = random_points(rng, 2000)
    full_rms = float(flat_rms_bandwidth_hz(RADIO.bandwidth_hz, RADIO.subcarrier_spacing_hz))
    comb, block = CombSplit.name, TimeBlock.name
    for bound, rms in (("paper", None), ("achievable", full_rms)):
        with registered(_Schemes(CombSplit(k, rms), TimeBlock(k))):
            kw = dict(bound=bound, epre="equal", max_capacity_loss=1.0, ue_height_m=1.5)
            a = evaluate(sites, x, y, schemes=[comb], **kw)[f"{comb}_error_m"].to_numpy()
            b = evaluate(sites, x, y, schemes=[block], **kw)[f"{block}_error_m"].to_numpy()
            # under the paper's convention the comb gets the whole power: k times less CRB
            c = evaluate(sites, x, y, schemes=[comb], **{**kw, "epre": "paper"})[
                f"{comb}_error_m"].to_numpy()
        np.testing.assert_allclose(a, b, rtol=1e-13)
        np.testing.assert_allclose(c**2 * k, a**2, rtol=1e-12)


def test_a_comb_spectrum_has_the_rms_bandwidth_of_its_subcarriers():
    k_total, k = 1332, 4
    comb = np.arange(0, k_total, k)
    want = 15e3 * np.sqrt(np.mean((comb - comb.mean()) ** 2))
    assert rms_bandwidth_hz(comb) == pytest.approx(want, rel=1e-15)
    assert rms_bandwidth_hz(comb) == pytest.approx(15e3 * np.sqrt((k_total**2 - k**2) / 12),
                                                   rel=1e-12)


def test_equal_epre_plans_may_boost_power_within_one_total():
    radio = RADIO
    b, tau_t = radio.bandwidth_hz, radio.n_symbols
    share = np.array([0.0, 0.1])
    boost = ResourcePlan(loc_share=share, comm_bandwidth_hz=b * (1 - share), comm_symbols=tau_t,
                         loc_bandwidth_hz=b * share, loc_symbols=np.array([0.0, tau_t]),
                         comm_power_fraction=np.array([1.0, 0.5]),
                         loc_power_fraction=np.array([1.0, 5.5]))
    boost.validate(radio, "boost", "equal")            # 0.9 * 0.5 + 0.1 * 5.5 = 1.0
    with pytest.raises(ParameterError, match="boost.plan.loc_power_fraction"):
        boost.validate(radio, "boost", "paper")        # the paper's fractions are <= 1
    over = ResourcePlan(loc_share=share, comm_bandwidth_hz=b * (1 - share), comm_symbols=tau_t,
                        loc_bandwidth_hz=b * share, loc_symbols=np.array([0.0, tau_t]),
                        loc_power_fraction=np.array([1.0, 2.0]))
    with pytest.raises(ParameterError, match="candidate 1 needs 1.1 of the transmit power"):
        over.validate(radio, "over", "equal")
    # a boosted comb gets its power's worth: 5.5 x the SNR of an unboosted one
    gain = boost.loc_snr_gain(radio, "equal")
    np.testing.assert_allclose(gain, [0.0, 0.55])


@pytest.mark.parametrize("bound,epre,h", [("paper", "paper", 0.0), ("paper", "equal", 0.0),
                                          ("achievable", "paper", 23.5),
                                          ("achievable", "equal", 8.0)])
def test_corrected_theorem_2_under_both_bounds_is_its_definition(bound, epre, h):
    lam = RADIO.wavelength_m
    b_l = np.arange(1, 112) * 180e3
    for r, theta, n in ((40.0, 0.3, 8), (300.0, -1.1, 32), (1500.0, 0.0, 4)):
        closed = frequency_crb_loss_closed_form(
            b_l, bandwidth_hz=20e6, distance_m=r, theta_rad=theta, n_antennas=n,
            wavelength_m=lam, bound=bound, epre=epre, height_diff_m=h)
        kw = dict(n_antennas=n, wavelength_m=lam, bound=bound, height_diff_m=h)
        share = b_l / 20e6 if epre == "equal" else 1.0
        definition = crb_position(r, theta, b_l, 200, snr=7.0 * share, **kw) / crb_position(
            r, theta, 20e6, 200, snr=7.0, **kw)
        np.testing.assert_allclose(closed, definition, rtol=1e-12)


def test_tradeoff_time_split_is_the_same_under_both_energy_conventions():
    a = ip.tradeoff_curves(n_antennas=8, snr_db=(10, 20), schemes=["time"], epre="paper")
    b = ip.tradeoff_curves(n_antennas=8, snr_db=(10, 20), schemes=["time"], epre="equal")
    pd.testing.assert_frame_equal(a, b)
    ach = ip.tradeoff_curves(n_antennas=8, snr_db=(10, 20), schemes=["time"], bound="achievable")
    assert (ach.crb_m2.to_numpy() > a.crb_m2.to_numpy()).all()


def test_wrap_around_counts_each_cell_once_through_its_nearest_image():
    sites = hexagonal_layout(isd_m=200.0, rings=1)
    shifts = wrap_shifts_m(200.0, 1)
    rng = np.random.default_rng(2)
    x, y = rng.uniform(-350, 350, 3000), rng.uniform(-350, 350, 3000)
    kw = dict(target_error_m=1.0, interference=True, ue_height_m=1.5)
    df = evaluate(sites, x, y, wrap_shifts_m=shifts, **kw)
    ref = reference_evaluate(sites, x, y, radio=RADIO, wrap_shifts_m=shifts, **kw)
    assert_matches_reference(df, ref)
    # the brute-force nearest-image SINR, written out
    d2 = np.stack([(x[:, None] - sites.x_m.to_numpy() - sx) ** 2
                   + (y[:, None] - sites.y_m.to_numpy() - sy) ** 2 for sx, sy in shifts])
    assert (d2.argmin(axis=0) > 0).any()             # some images are nearer than the cell
    # seven copies of every cell interfere more than one image each (where the serving
    # cell is the same: a copy may serve through a farther image, a stronger beam)
    copies = wrap_around(sites, 200.0, 1)
    old = evaluate(copies, x, y, **kw)
    same = copies.source_row.to_numpy()[old.serving_cell] == df.serving_cell.to_numpy()
    assert same.mean() > 0.9
    assert (old.snr_db.to_numpy()[same] < df.snr_db.to_numpy()[same] + 1e-9).all()
    assert (df.snr_db - old.snr_db).mean() > 1.0


@pytest.mark.parametrize("distance_m,want_db", [(10, 12.7), (20, 7.0), (35, 3.3), (50, 1.8),
                                                (100, 0.5)])
def test_vertical_pattern_near_a_site(distance_m, want_db):
    """A 25 m site, a 1.5 m UE, no tilt: what the horizontal pattern alone leaves out."""
    att = antenna_attenuation_db(0.0, float(distance_m), -23.5, azimuth_deg=0.0)
    assert float(att) == pytest.approx(want_db, abs=0.06)


def test_vectorized_schemes_see_the_runs_bound():
    """LinkState.crb_position applies bound, epre and dl_prs: a vectorized twin of the
    time split gives the kernel's errors in every mode."""

    class VectorTime(Scheme):
        name = "vector_time_test"
        description = "the time split, vectorized (test)"

        def evaluate(self, link, objective, radio):
            tau = np.arange(1, radio.n_symbols + 1)
            crb = np.stack([link.crb_position(radio, radio.bandwidth_hz, t) for t in tau])
            ok = crb <= objective.crb_target_m2 * (1 + 1e-12)
            j = np.where(ok.any(0), ok.argmax(0), tau.size - 1)
            err = np.sqrt(crb[j, np.arange(link.size)])
            return SchemeResult(capacity_bps=np.zeros(link.size), error_m=err,
                                loc_share=tau[j] / radio.n_symbols, feasible=ok.any(0))

    name = VectorTime.name
    rng = np.random.default_rng(4)
    sites = random_sites(rng, 6, height_m=rng.uniform(10, 40, 6))
    x, y = random_points(rng, 400)
    with registered(_Schemes(VectorTime())):
        for kw in (dict(), dict(bound="achievable", dl_prs="beamformed"),
                   dict(bound="achievable", epre="equal")):
            df = evaluate(sites, x, y, schemes=["time", name], target_error_m=1.0,
                          ue_height_m=1.5, **kw)
            np.testing.assert_allclose(df[f"{name}_error_m"], df["time_error_m"], rtol=1e-12)


def test_bound_options_are_checked():
    sites = hexagonal_layout(rings=0)
    for kw, text in ((dict(bound="exact"), "bound must be one of"),
                     (dict(epre="flat"), "epre must be one of"),
                     (dict(dl_prs="sum"), "dl_prs must be one of"),
                     (dict(antenna="dipole"), "antenna must be one of"),
                     (dict(antenna="omni", sector_pattern=True), "contradicts"),
                     (dict(wrap_shifts_m=[[1.0, 0.0]]), "wrap_shifts_m")):
        with pytest.raises(ParameterError, match=text):
            evaluate(sites, [10.0], [10.0], **kw)
