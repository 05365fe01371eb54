"""Geometries an attacker would send, and the worst one the geometry budget accepts; shared by the budget tests
and bench/geometry_abuse.py. Plain JSON-ready dicts, as the editor's API receives them."""

import math

from annotation import geometry

UNLIMITED = geometry.GeometryBudget(
    max_polygons=10**9,
    max_holes_per_polygon=10**9,
    max_vertices=10**9,
    max_raster_px=10**15,
    max_outline_px=10**15,
    max_edges_per_row=10**9,
)


def triangle(x: float, y: float, side: float) -> list[list[float]]:
    return [[x, y], [x + side, y], [x + side / 2, y + side]]


def rectangle(x: float, y: float, width: float, height: float) -> list[list[float]]:
    return [[x, y], [x + width, y], [x + width, y + height], [x, y + height]]


def holed_triangles(count: int, *, width: int, height: int, side: float = 60) -> dict:
    """The issue's attack: `count` overlapping triangles, each with a hole, spread over the image."""
    polygons = []
    for index in range(count):
        x = (index * 7919) % max(1, int(width - side - 1))
        y = (index * 104729) % max(1, int(height - side - 1))
        polygons.append({"exterior": triangle(x, y, side), "holes": [triangle(x + side / 4, y + 2, side / 2)]})
    return {"polygons": polygons}


def star(*, centre: tuple[float, float], radius: float, vertices: int) -> list[list[float]]:
    """A ring whose every edge nearly runs through the centre: its middle row crosses all of them."""
    step = math.pi * (1 + 1 / vertices)
    x, y = centre
    return [[x + radius * math.cos(index * step), y + radius * math.sin(index * step)] for index in range(vertices)]


def comb(*, x: float, y: float, teeth: int, tooth_px: float) -> list[list[float]]:
    """A spine with `teeth` horizontal teeth, 1 px thick and 2 px apart: every column crosses every tooth, so
    its RLE has a run per tooth and column (the longest RLE an outline this long can have)."""
    ring = [[x, y]]
    for tooth in range(teeth):
        top = y + 3 * tooth
        ring += [[x - tooth_px, top], [x - tooth_px, top + 1], [x - 2, top + 1], [x - 2, top + 3]]
    return [*ring, [x, y + 3 * teeth]]


def saw(*, x: float, y: float, vertices: int) -> list[list[float]]:
    """A thin vertical saw: many vertices, four to a row, so no row crosses more than a few edges."""
    teeth = [[x + 2 * (index % 2), y + index / 4] for index in range(vertices - 2)]
    return [*teeth, [x + 6, teeth[-1][1]], [x + 6, y]]


def cost(data: dict, *, width: int, height: int) -> geometry.GeometryCost:
    polygons = geometry.polygons_from_json(data, width=width, height=height, budget=UNLIMITED)
    return geometry.geometry_cost(polygons)


def worst_accepted(budget: geometry.GeometryBudget, *, width: int, height: int, full_precision: bool = True) -> dict:
    """One annotation at every per-annotation limit at once (vertices, polygons, holes, crossings per row exactly;
    outline and raster within a few px of theirs): a square holding the most holes, a star crossing one row with
    the most edges, small triangles up to the polygon limit, a comb taking the outline to its limit (the longest
    RLE), a saw taking the vertices left, and a square taking the raster budget left. With `full_precision`
    every coordinate is moved by a third of a pixel, so each takes the longest JSON a float can (17 digits).
    Needs an image of about 4,500 x 4,500 px or more for the default budget."""
    holes_per_side = math.ceil(math.sqrt(budget.max_holes_per_polygon))
    holed = {
        "exterior": rectangle(8, 8, 3 * holes_per_side + 4, 3 * holes_per_side + 4),
        "holes": [
            triangle(10 + 3 * (index % holes_per_side), 10 + 3 * (index // holes_per_side), 1)
            for index in range(budget.max_holes_per_polygon)
        ],
    }
    polygons: list[dict] = [holed, {"exterior": star(centre=(200, 200), radius=50, vertices=budget.max_edges_per_row)}]
    triangles = budget.max_polygons - len(polygons) - 3  # three more below: comb, saw, square
    polygons += [
        {"exterior": triangle(300 + 6 * (index % 500), 8 + 6 * (index // 500), 4)} for index in range(triangles)
    ]
    teeth = 100
    vertices = cost({"polygons": polygons}, width=width, height=height).vertices + 4 * teeth + 2 + 4  # comb, square
    polygons.append({"exterior": saw(x=100, y=300, vertices=budget.max_vertices - vertices)})
    outline = cost({"polygons": polygons}, width=width, height=height).outline_px
    tooth_px = (budget.max_outline_px - outline - 4 * 4000 - 3 * teeth - 10) // (2 * teeth)  # the square's sides
    polygons.append({"exterior": comb(x=300 + tooth_px, y=300, teeth=teeth, tooth_px=tooth_px)})
    raster = cost({"polygons": polygons}, width=width, height=height).raster_px
    side = math.isqrt(budget.max_raster_px - raster) - 1  # a side of n px of vertices covers n + 1 pixels
    polygons.append({"exterior": rectangle(width - side - 2, height - side - 2, side - 1, side - 1)})
    if full_precision:
        polygons = [
            {
                "exterior": [[x + 1 / 3, y + 1 / 3] for x, y in polygon["exterior"]],
                "holes": [[[x + 1 / 3, y + 1 / 3] for x, y in hole] for hole in polygon.get("holes", [])],
            }
            for polygon in polygons
        ]
    data = {"polygons": polygons}
    geometry.budget_check(cost(data, width=width, height=height), budget)  # the worst *accepted*: within every limit
    return data


SMALL_BUDGET = geometry.GeometryBudget(  # small enough to build a case over each limit by hand
    max_polygons=5,
    max_holes_per_polygon=3,
    max_vertices=40,
    max_raster_px=2_000,
    max_outline_px=400,
    max_edges_per_row=6,
)


def zigzag(vertices: int) -> list[list[float]]:
    """A ring of `vertices` vertices whose zig-zag stays within one row of pixels (so no row crosses it often)."""
    return [[float(index), (index % 2) * 0.3] for index in range(vertices - 2)] + [[vertices - 3.0, 6.0], [0.0, 6.0]]


def small_budget_cases(step: int) -> dict[str, dict]:
    """For each limit of SMALL_BUDGET, a geometry `step` over it (1) or at or under it (0), within all the others."""
    return {
        "max_polygons": {"polygons": [{"exterior": triangle(4 * index, 0, 2)} for index in range(5 + step)]},
        "max_holes_per_polygon": {
            "polygons": [
                {
                    "exterior": rectangle(0, 0, 30, 4),
                    "holes": [triangle(1 + 6 * index, 1, 1) for index in range(3 + step)],
                }
            ]
        },
        "max_vertices": {"polygons": [{"exterior": zigzag(40 + step)}]},
        "max_raster_px": {"polygons": [{"exterior": rectangle(0, 0, 49, 39 + step)}]},  # 50 x 40 = 2,000 px, or 50 x 41
        "max_outline_px": {  # 202 + 197 = 399 px of outline, or 202 + 201 = 403
            "polygons": [
                {"exterior": rectangle(0, 0, 100, 1)},
                {"exterior": [[0, 3], [98 + 2 * step, 3], [98 + 2 * step, 4]]},
            ]
        },
        "max_edges_per_row": {"polygons": [{"exterior": star(centre=(20, 20), radius=8, vertices=6 + 2 * step)}]},
    }
