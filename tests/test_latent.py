import pytest
import torch

from unsup_core.algorithms.latent import interpolation_paths, lerp, slerp, traversals


@pytest.mark.parametrize("mode", ["linear", "spherical"])
def test_interpolation_paths_start_and_end_at_the_two_codes(mode):
    generator = torch.Generator().manual_seed(0)
    starts, ends = torch.randn(2, 16, generator=generator), torch.randn(2, 16, generator=generator)
    paths = interpolation_paths(starts, ends, 7, mode)
    assert paths.shape == (2, 7, 16)
    torch.testing.assert_close(paths[:, 0], starts)
    torch.testing.assert_close(paths[:, -1], ends)
    assert not torch.allclose(paths[:, 3], starts)  # it does move in between


def test_slerp_stays_on_the_sphere_where_lerp_cuts_inside():
    start, end = torch.tensor([3.0, 0.0]), torch.tensor([0.0, 3.0])
    t = torch.linspace(0, 1, 5)
    assert torch.allclose(slerp(start, end, t).norm(dim=1), torch.full((5,), 3.0))
    assert lerp(start, end, t).norm(dim=1)[2] == pytest.approx(3.0 / 2**0.5)


def test_slerp_of_parallel_vectors_falls_back_to_a_straight_line():
    start = torch.tensor([1.0, 1.0])
    path = slerp(start, 2 * start, torch.tensor([0.0, 0.5, 1.0]))
    torch.testing.assert_close(path, torch.tensor([[1.0, 1.0], [1.5, 1.5], [2.0, 2.0]]))


def test_traversals_change_one_dimension_per_row():
    origin = torch.tensor([0.5, -1.0, 2.0])
    values = torch.tensor([-3.0, 0.0, 3.0])
    codes = traversals(origin, [2, 0], values)
    assert codes.shape == (2, 3, 3)
    torch.testing.assert_close(codes[0, :, 2], values)
    torch.testing.assert_close(codes[0, :, :2], origin[:2].expand(3, 2))
    torch.testing.assert_close(codes[1, :, 0], values)
    torch.testing.assert_close(codes[1, :, 1:], origin[1:].expand(3, 2))
