"""Redraw the paper's Figs. 2-3 under both bounds and energy conventions; print the
comparisons docs/model.md quotes ("Which conclusions survive").

    python docs/make_figures.py            # writes docs/images/fig{2,3}[_equal|_achievable].png

Wins: for 200 CRB targets log-spaced over the range both schemes reach, the scheme with the
most capacity among the splits meeting the target (the planner's rule).
"""

from pathlib import Path

import numpy as np

from ilac_plan.model.losses import frequency_crb_loss_for_capacity_loss
from ilac_plan.plotting import bound_label, plot_losses, plot_tradeoff
from ilac_plan.radio import RadioParams
from ilac_plan.tradeoff import link_geometry, tradeoff_curves

IMAGES = Path(__file__).parent / "images"
VARIANTS = {"": dict(bound="paper", epre="paper"),
            "_equal": dict(bound="paper", epre="equal"),
            "_achievable": dict(bound="achievable", epre="equal")}


def wins(frame, n_targets=200):
    """Targets won by the frequency split, of n_targets over the common CRB range."""
    t, f = frame[frame.scheme == "time"], frame[frame.scheme == "frequency"]
    lo = max(t.crb_m2.min(), f.crb_m2.min())
    hi = min(t.crb_m2.max(), f.crb_m2.max())
    targets = np.geomspace(lo, hi, n_targets)

    def best(d):
        ok = d.crb_m2.to_numpy()[None, :] <= targets[:, None]
        return np.where(ok, d.capacity_bps.to_numpy()[None, :], -np.inf).max(axis=1)

    return int((best(f) > best(t)).sum())


def crb_loss_db_at(loss_fraction, frame_n, scheme, snr_db, radio, **kw):
    """CRB loss [dB] of the split giving up ``loss_fraction`` of the capacity (on the
    integer-pilot curves: the first split at or beyond that loss)."""
    d = frame_n[(frame_n.scheme == scheme) & (frame_n.snr_db.round(6) == snr_db)]
    full = d.capacity_bps.to_numpy() + d.capacity_loss_bps.to_numpy()
    k = np.argmax(d.capacity_loss_bps.to_numpy() >= loss_fraction * full)
    return 10 * np.log10(d.crb_loss.to_numpy()[k])


def main():
    radio = RadioParams()
    for suffix, kw in VARIANTS.items():
        frame = tradeoff_curves(n_antennas=(8, 32), snr_db=(10, 20, 30), **kw)
        label = bound_label(**kw)
        plot_tradeoff(frame, IMAGES / f"fig2{suffix}.png", subtitle=label)
        plot_losses(frame, IMAGES / f"fig3{suffix}.png", subtitle=label)
        print(f"{label}:")
        for n in (8, 32):
            sub = frame[frame.n_antennas == n]
            row = [wins(sub[sub.snr_db.round(6) == s]) for s in (10.0, 20.0, 30.0)]
            losses = [(crb_loss_db_at(0.05, sub, "time", s, radio),
                       crb_loss_db_at(0.05, sub, "frequency", s, radio))
                      for s in (10.0, 20.0, 30.0)]
            text = ", ".join(f"{t:.2f}/{f:.2f}" for t, f in losses)
            print(f"  N_T = {n}: frequency split wins {row} of 200 targets at 10/20/30 dB; "
                  f"CRB loss at 5 % capacity loss, time/frequency [dB]: {text}")
    # the closed form of Theorem 2 under the achievable bound, for the record
    snr_dl, snr_ul, dist = link_geometry(radio, snr_db=[15.0])
    for epre in ("paper", "equal"):
        loss = frequency_crb_loss_for_capacity_loss(
            0.05 * 61.6e6, bandwidth_hz=radio.bandwidth_hz, n_antennas=8, snr_dl=snr_dl,
            snr_ul=snr_ul, distance_m=dist, theta_rad=0.0, wavelength_m=radio.wavelength_m,
            bound="achievable", epre=epre)
        print(f"Theorem 2, achievable bound, epre={epre}, N_T = 8, 15 dB, 3.08 Mbit/s lost: "
              f"CRB loss {10 * np.log10(float(loss[0])):.2f} dB")


if __name__ == "__main__":
    main()
