import numpy as np
import numpy.typing as npt
from typing_extensions import disjoint_base

_F = npt.NDArray[np.float64]
_I = npt.NDArray[np.int32]

OBJECTIVE_TARGET: int
OBJECTIVE_BUDGET: int
LINEAR_OFF: int
LINEAR_ORDER: int
LINEAR_POWER: int
PLAN_ROWS: tuple[str, ...]
NET_MODES: dict[str, int]
NET_VALUES: tuple[str, ...]
NET_INFO_ROWS: int
MAX_NET: int

@disjoint_base
class PathLoss:
    def __init__(self, a0: _F, a1: _F, lo2: _F, hi2: _F, floor2: float, simple: bool,
                 table: _F, t0: float, inv_step: float, *, table_nlos: _F | None = ...,
                 seed: int | None = ..., sigma_los: float = ..., sigma_nlos: float = ...,
                 plos: _F | None = ..., p0: float = ..., p_inv_step: float = ...) -> None: ...
    @property
    def drop(self) -> bool: ...

@disjoint_base
class CellTable:
    n_cells: int
    def __init__(self, *, x: _F, y: _F, ux: _F, uy: _F, eirp_dbm: _F, dh2: _F, dz: _F,
                 cos_tilt: _F, sin_tilt: _F, etilt: _F, pattern: int, k_pattern: float,
                 a_max: float, k_vertical: float, sla_v: float, shifts: _F,
                 linear: int = ..., weights: _F | None = ..., lin_margin: float = ...,
                 panel_m: _F | None = ..., panel_kd: _F | None = ...,
                 sin_etilt: _F | None = ...) -> None: ...

@disjoint_base
class RadioSpec:
    n_cells: int
    def __init__(self, *, n_symbols: int, noise_dbm: float, interference: bool,
                 horizontal_fix: bool, n_antennas: _F, information: _F, ul_offset_db: _F,
                 objective: int, objective_value: float, net_k: int = ...,
                 net_mode: int = ..., net_scale: float = ..., net_reuse: int = ...,
                 net_prs_interference: bool = ...) -> None: ...

@disjoint_base
class PlanTable:
    n_plans: int
    def __init__(self, offset: npt.ArrayLike, data: _F, loc_uplink: npt.ArrayLike) -> None: ...

@disjoint_base
class Outputs:
    n_plans: int
    def __init__(self, *, serving: _I, distance_m: _F, theta_deg: _F, snr_db: _F,
                 snr_ul_db: _F, capacity_bps: _F, error_m: _F, loc_share: _F,
                 feasible: npt.NDArray[np.int8],
                 best: npt.NDArray[np.int16] | None = ..., gdop: _F | None = ...,
                 cells_used: npt.NDArray[np.int8] | None = ...,
                 net_info: _F | None = ...) -> None: ...

def tile_order_kernel(
    px: _F, py: _F, x0: float, y0: float, side: float, nx: int, ny: int, group: int,
    order: _I,
) -> None: ...
def coverage_kernel(
    px: _F, py: _F, order: _I, cells: CellTable, pathloss: PathLoss, radio: RadioSpec,
    plans: PlanTable, out: Outputs, prune: bool, prune_margin_db: float, block_size: int,
    blocks_per_group: int, n_threads: int,
) -> None: ...

def drop_draws(seed: int, x_m: npt.ArrayLike, y_m: npt.ArrayLike, site_x_m: npt.ArrayLike,
               site_y_m: npt.ArrayLike) -> tuple[_F, _F]: ...
