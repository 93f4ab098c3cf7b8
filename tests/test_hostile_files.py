"""Hostile uploads (a student on a shared class server): each is refused from its headers, before
the expensive decoding starts, with one sentence naming the limit; or read safely."""

import io
import re
import tracemalloc
import zipfile

import numpy as np
import pandas as pd
import pytest

from unsup_core.datasets import DatasetError
from unsup_core.datasets.files import read_file
from unsup_core.datasets.uploads import add_upload, uploads_root


def one_sentence(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message and "Traceback" not in message
    assert not re.search(r"[.!?] [A-Z]", message), message
    return message


@pytest.fixture
def never(monkeypatch):
    """``never(module, "name")``: the test fails if that decoder is ever called."""
    def forbid(module, name):
        def called(*args, **kwargs):
            raise AssertionError(f"{name} was called on a file that should have been refused")
        monkeypatch.setattr(module, name, called)
    return forbid


def npy_bytes(shape, dtype="<f8", data=b"\0" * 16) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + data


def refused_with_peak(path):
    """The DatasetError reading ``path`` raises, and the peak memory Python allocated meanwhile (bytes)."""
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError) as error:
            read_file(path)
        return error, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# -- NumPy ---------------------------------------------------------------------------------------
def test_npy_header_claiming_a_huge_shape_is_refused_without_allocating(tmp_path, never):
    path = tmp_path / "huge.npy"
    path.write_bytes(npy_bytes((2**40,)))
    never(np, "load")
    error, peak = refused_with_peak(path)
    assert "declares 8,796,093,022,208 bytes" in one_sentence(error) and "holds 16" in str(error.value)
    assert peak < 5 * 1024**2


def test_npy_over_the_element_limit_names_the_variable(tmp_path, monkeypatch, never):
    np.save(tmp_path / "big.npy", np.zeros((300, 10)))
    monkeypatch.setenv("UNSUP_LAB_MAX_ARRAY_ELEMENTS", "1000")
    never(np, "load")
    with pytest.raises(DatasetError) as error:
        read_file(tmp_path / "big.npy")
    assert "3,000 array elements, over the limit of 1,000" in one_sentence(error)
    assert "$UNSUP_LAB_MAX_ARRAY_ELEMENTS" in str(error.value)


def test_npy_table_too_wide_and_scalar_are_refused(tmp_path, monkeypatch):
    np.save(tmp_path / "wide.npy", np.zeros((2, 60)))
    np.save(tmp_path / "scalar.npy", np.float64(3.0))
    monkeypatch.setenv("UNSUP_LAB_MAX_COLUMNS", "50")
    with pytest.raises(DatasetError, match=r"60 columns, over the limit of 50 columns \(\$UNSUP_LAB_MAX_COLUMNS\)"):
        read_file(tmp_path / "wide.npy")
    with pytest.raises(DatasetError, match="holds a single value"):
        read_file(tmp_path / "scalar.npy")


def test_npz_member_header_claiming_a_huge_shape_is_refused(tmp_path, never):
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("y.npy", npy_bytes((2,)))
        archive.writestr("X.npy", npy_bytes((2**20, 2**20), dtype="<f4"))
    never(np, "load")
    with pytest.raises(DatasetError) as error:
        read_file(path)
    assert "array 'X' in bomb.npz is damaged: its header declares 4,398,046,511,104 bytes" in one_sentence(error)


def test_compressed_npz_over_the_memory_limit_is_refused_before_decompressing(tmp_path, monkeypatch, never):
    path = tmp_path / "zeros.npz"
    np.savez_compressed(path, X=np.zeros((512, 1024)))  # 4 MB of zeros in a few kB
    monkeypatch.setenv("UNSUP_LAB_MAX_ARRAY_MB", "2")
    never(np, "load")
    error, peak = refused_with_peak(path)
    assert "declares 4.0 MB of arrays, over the limit of 2 MB of arrays ($UNSUP_LAB_MAX_ARRAY_MB)" \
        in one_sentence(error)
    assert peak < 1024**2


def test_npz_loads_only_the_arrays_it_uses(tmp_path):
    path = tmp_path / "mixed.npz"
    np.savez(path, X=np.arange(6.0).reshape(3, 2), label=np.array([0, 1, 1]), other=np.zeros(5), big=np.zeros((2, 2)))
    loaded = read_file(path)
    assert loaded.report.names() == ["x0", "x1", "label"]
    assert any("'big', 'other' ignored" in note for note in loaded.report.notes)


# -- Excel ---------------------------------------------------------------------------------------
def workbook(tmp_path, sheets=1, rows=30, dimension=None, name="book.xlsx"):
    """An .xlsx with ``sheets`` sheets of ``rows`` x 10 numbers; ``dimension`` replaces the declared one
    ("" removes it)."""
    built = tmp_path / f"built-{name}"
    with pd.ExcelWriter(built, engine="openpyxl") as writer:
        for index in range(sheets):
            table = pd.DataFrame(np.arange(rows * 10.0).reshape(rows, 10), columns=[f"c{i}" for i in range(10)])
            table.to_excel(writer, sheet_name=f"s{index}", index=False)
    if dimension is None:
        return built
    path = tmp_path / name
    with zipfile.ZipFile(built) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb"<dimension ref=\"[^\"]*\"\s*/>",
                              f'<dimension ref="{dimension}"/>'.encode() if dimension else b"", data)
            target.writestr(info, data)
    return path


def test_xlsx_declaring_a_huge_sheet_is_refused_before_openpyxl(tmp_path, never):
    path = workbook(tmp_path, dimension="A1:ZZ100000")
    never(pd, "ExcelFile")
    with pytest.raises(DatasetError) as error:
        read_file(path)
    assert "declare 70,200,000 cells, over the limit of 2,000,000 cells ($UNSUP_LAB_MAX_EXCEL_CELLS)" \
        in one_sentence(error)


def test_xlsx_without_dimension_is_bounded_by_its_unpacked_xml(tmp_path, monkeypatch, never):
    path = workbook(tmp_path, rows=200, dimension="")
    monkeypatch.setenv("UNSUP_LAB_MAX_EXCEL_CELLS", "100")
    never(pd, "ExcelFile")
    with pytest.raises(DatasetError) as error:
        read_file(path)
    assert "MB of XML, more than the limit of 100 cells ($UNSUP_LAB_MAX_EXCEL_CELLS)" in one_sentence(error)


def test_xlsx_sheet_count_is_bounded_and_only_the_first_sheet_with_data_is_read(tmp_path, monkeypatch):
    path = workbook(tmp_path, sheets=3, rows=5)
    loaded = read_file(path)
    assert loaded.report.n_rows == 5 and any("sheet 's0'" in note for note in loaded.report.notes)
    monkeypatch.setenv("UNSUP_LAB_MAX_EXCEL_SHEETS", "2")
    with pytest.raises(DatasetError, match=r"has 3 sheets, over the limit of 2 sheets \(\$UNSUP_LAB_MAX_EXCEL_SHEETS"):
        read_file(path)


# -- Parquet -------------------------------------------------------------------------------------
def test_parquet_rows_times_columns_are_checked_from_the_footer(tmp_path, monkeypatch, never):
    pd.DataFrame(np.zeros((50, 3)), columns=["a", "b", "c"]).to_parquet(tmp_path / "t.parquet")
    monkeypatch.setenv("UNSUP_LAB_MAX_TABLE_CELLS", "100")
    never(pd, "read_parquet")
    with pytest.raises(DatasetError) as error:
        read_file(tmp_path / "t.parquet")
    assert "50 rows x 3 columns = 150 cells, over the limit of 100 cells ($UNSUP_LAB_MAX_TABLE_CELLS)" \
        in one_sentence(error)


# -- Image zips ----------------------------------------------------------------------------------
def image_bytes(size, image_format="PNG"):
    from PIL import Image

    buffer = io.BytesIO()
    Image.radial_gradient("L").resize(size).convert("RGB").save(buffer, image_format)
    return buffer.getvalue()


def image_zip(tmp_path, sizes, image_format="PNG", name="images.zip"):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        for index, size in enumerate(sizes):
            archive.writestr(f"{index}.{image_format.lower()}", image_bytes(size, image_format))
    return path


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("side", [250, 400])  # 400: over twice the limit, refused by Pillow at open
def test_an_image_over_the_pixel_limit_is_refused(tmp_path, monkeypatch, side):
    path = image_zip(tmp_path, [(32, 32), (side, side)])
    monkeypatch.setenv("UNSUP_LAB_MAX_IMAGE_PIXELS", str(200 * 200))
    with pytest.raises(DatasetError) as error:
        read_file(path)
    assert "1.png" in one_sentence(error) and "over the limit of 40,000 pixels" in str(error.value)
    assert "$UNSUP_LAB_MAX_IMAGE_PIXELS" in str(error.value)


def test_total_decoded_pixels_are_bounded_before_decoding(tmp_path, monkeypatch):
    from PIL import ImageOps

    path = image_zip(tmp_path, [(150, 150)] * 5)
    monkeypatch.setenv("UNSUP_LAB_MAX_TOTAL_IMAGE_PIXELS", "100000")
    monkeypatch.setattr(ImageOps, "fit", lambda *args, **kwargs: pytest.fail("decoded before the total was checked"))
    with pytest.raises(DatasetError) as error:
        read_file(path)
    assert "decode to 112,500 pixels, over the limit of 100,000 pixels ($UNSUP_LAB_MAX_TOTAL_IMAGE_PIXELS)" \
        in one_sentence(error)


def test_jpegs_count_and_decode_at_reduced_size(tmp_path, monkeypatch):
    path = image_zip(tmp_path, [(800, 800)] * 5, image_format="JPEG")
    monkeypatch.setenv("UNSUP_LAB_MAX_TOTAL_IMAGE_PIXELS", "100000")  # 5 x 800 x 800 at full size
    loaded = read_file(path)
    assert loaded.images.shape == (5, 48, 48)


# -- Damaged zips --------------------------------------------------------------------------------
def flip_member_byte(path, member):
    """Flip one byte in the middle of ``member``'s stored data: its CRC (or its deflate stream) breaks."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    content = bytearray(path.read_bytes())
    name_and_extra = int.from_bytes(content[info.header_offset + 26:info.header_offset + 28], "little") + \
        int.from_bytes(content[info.header_offset + 28:info.header_offset + 30], "little")
    content[info.header_offset + 30 + name_and_extra + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(content))
    return path


def damaged_npz(tmp_path):
    np.savez(tmp_path / "arrays.npz", X=np.arange(20.0).reshape(10, 2))
    return flip_member_byte(tmp_path / "arrays.npz", "X.npy")


def damaged_images(tmp_path):
    return flip_member_byte(image_zip(tmp_path, [(24, 24)] * 3), "1.png")


def damaged_xlsx(tmp_path):
    return flip_member_byte(workbook(tmp_path, rows=200), "xl/worksheets/sheet1.xml")


def truncated_zip(tmp_path):
    path = image_zip(tmp_path, [(24, 24)] * 3)
    path.write_bytes(path.read_bytes()[:-30])
    return path


@pytest.mark.parametrize("build", [damaged_npz, damaged_images, damaged_xlsx, truncated_zip])
def test_a_damaged_zip_says_so(tmp_path, build):
    path = build(tmp_path)
    with pytest.raises(DatasetError) as error:
        read_file(path)
    assert "damaged" in one_sentence(error) and path.name in str(error.value)


# -- Text tables ---------------------------------------------------------------------------------
def test_a_field_over_the_csv_modules_128_kb_is_read(tmp_path):
    long_text = "x" * 200_000
    path = tmp_path / "notes.csv"
    path.write_text(f"id,score,notes\n1,0.5,\"{long_text}\"\n2,0.7,short\n3,0.1,short\n")
    loaded = read_file(path)
    assert loaded.table["notes"][0] == long_text and loaded.table["score"].tolist() == [0.5, 0.7, 0.1]


def test_a_field_over_the_cell_limit_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "notes.csv"
    path.write_text(f"id,score,notes\n1,0.5,\"{'x' * 200_000}\"\n2,0.7,short\n")
    monkeypatch.setenv("UNSUP_LAB_MAX_CELL_KB", "100")
    with pytest.raises(DatasetError) as error:
        read_file(path)
    assert "a field longer than the limit of 100 KB ($UNSUP_LAB_MAX_CELL_KB)" in one_sentence(error)


def test_csv_columns_and_cells_are_bounded_before_parsing(tmp_path, monkeypatch, never):
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(60)) + "\n" + ",".join(["1"] * 60) + "\n")
    long = tmp_path / "long.csv"
    long.write_text("a,b,c\n" + "1,2,3\n" * 500)
    monkeypatch.setenv("UNSUP_LAB_MAX_COLUMNS", "50")
    monkeypatch.setenv("UNSUP_LAB_MAX_TABLE_CELLS", "1000")
    never(pd, "read_csv")
    with pytest.raises(DatasetError) as error:
        read_file(wide)
    assert "wide.csv has 60 columns, over the limit of 50 columns ($UNSUP_LAB_MAX_COLUMNS)" in one_sentence(error)
    with pytest.raises(DatasetError) as error:
        read_file(long)
    assert "500 lines x 3 columns = 1,500 cells, over the limit of 1,000 cells" in one_sentence(error)


def test_a_wide_row_below_the_sample_is_bounded_too(tmp_path, monkeypatch):
    path = tmp_path / "late.csv"
    path.write_text("a,b\n" + "1,2\n" * 70_000 + ",".join(["9"] * 80) + "\n")
    monkeypatch.setenv("UNSUP_LAB_MAX_COLUMNS", "50")
    with pytest.raises(DatasetError, match=r"late.csv has 80 columns, over the limit of 50 columns"):
        read_file(path)


# -- Infinite values -----------------------------------------------------------------------------
def inf_csv(tmp_path):
    path = tmp_path / "inf.csv"
    path.write_text("x,y\n1,inf\n2,-inf\n3,1e999\n4,5\n")
    return path


def inf_npy(tmp_path):
    np.save(tmp_path / "inf.npy", np.array([[1, np.inf], [2, -np.inf], [3, np.inf], [4, 5]], dtype=np.float32))
    return tmp_path / "inf.npy"


def inf_parquet(tmp_path):
    pd.DataFrame({"x": [1.0, 2, 3, 4], "y": [np.inf, -np.inf, np.inf, 5]}).to_parquet(tmp_path / "inf.parquet")
    return tmp_path / "inf.parquet"


def inf_xlsx(tmp_path):
    pd.DataFrame({"x": [1.0, 2, 3, 4], "y": ["inf", "-inf", "inf", 5]}).to_excel(tmp_path / "inf.xlsx", index=False)
    return tmp_path / "inf.xlsx"


@pytest.mark.parametrize("build", [inf_csv, inf_npy, inf_parquet, inf_xlsx])
def test_infinite_values_count_as_missing(tmp_path, build):
    loaded = read_file(build(tmp_path))
    column = loaded.report.names()[1]
    assert loaded.table[column].isna().sum() == 3 and np.isfinite(loaded.table.to_numpy(dtype=float)[3]).all()
    assert loaded.report.column(column).missing == 3
    assert f"column {column!r}: 3 infinite values treated as missing" in loaded.report.warnings


# -- Uploads -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, data", [
    ("huge.npy", npy_bytes((2**40,))),
    ("wide.csv", ",".join(f"c{i}" for i in range(20_000)).encode() + b"\n"),
])
def test_a_refused_upload_leaves_nothing_behind(lab_home, name, data):
    with pytest.raises(DatasetError) as error:
        add_upload(data, name)
    one_sentence(error)
    assert not uploads_root().exists() or not any(uploads_root().iterdir())
