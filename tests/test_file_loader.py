"""The file loader on messy files the tests write: what it reads, what it assumes, what it refuses."""

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from unsup_core.datasets import DatasetError
from unsup_core.datasets.files import read_file, readable_size


def write(tmp_path, name, content, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def test_latin1_csv_with_semicolons_and_decimal_commas(tmp_path):
    text = ("Name;Größe;Gewicht;Stadt\nMüller;1,75;70,5;Köln\nSchäfer;1,82;80,25;München\n"
            "Garçon;1.234,5;66;Köln\n")
    loaded = read_file(write(tmp_path, "people.csv", text, "latin-1"))
    report = loaded.report
    assert report.encoding in ("cp1252", "latin-1") and report.delimiter == ";" and report.decimal == ","
    assert report.thousands == "."
    assert report.names() == ["Name", "Größe", "Gewicht", "Stadt"]
    assert loaded.table["Größe"].tolist() == [1.75, 1.82, 1234.5]
    assert loaded.table["Gewicht"].tolist() == [70.5, 80.25, 66.0]
    assert loaded.table["Name"].tolist() == ["Müller", "Schäfer", "Garçon"]
    assert report.column("Stadt").kind == "categorical" and report.column("Name").kind == "text"
    assert any("not valid UTF-8" in note for note in report.notes)


def test_empty_trailing_columns_free_text_and_notes_beyond_the_header(tmp_path):
    text = ("id,height,weight,comment,,\n"
            "1,1.70,70,\"fine, thanks\",,\n"
            "2,1.80,80,too heavy for the chair,,\n"
            "3,1.60,unknown,,,\n"
            "4,1.75,75,ok,,,called back on Monday\n"
            "5,1.65,68,\"multi\nline\",,\n")
    loaded = read_file(write(tmp_path, "survey.csv", text))
    report = loaded.report
    assert report.n_rows == 5
    assert report.column("height").kind == "numeric" and report.column("weight").kind == "numeric"
    assert report.column("comment").kind == "text"
    assert loaded.table["comment"].iloc[0] == "fine, thanks" and loaded.table["comment"].iloc[4] == "multi\nline"
    assert np.isnan(loaded.table["weight"].iloc[2]) and report.column("weight").missing == 1
    assert any("'weight': 1 non-numeric value ('unknown')" in w for w in report.warnings)
    assert any("2 empty columns dropped" in w for w in report.warnings)
    notes = [w for w in report.warnings if "beyond the header" in w]
    assert len(notes) == 1 and "extra_7" in notes[0]
    assert loaded.table["extra_7"].dropna().tolist() == ["called back on Monday"]


def test_a_wide_row_far_below_the_sampled_lines_is_kept(tmp_path):
    rows = [f"{i},{i * 0.5}" for i in range(3000)]
    rows[2800] += ",checked twice"
    loaded = read_file(write(tmp_path, "long.csv", "a,b\n" + "\n".join(rows) + "\n"))
    assert loaded.report.n_rows == 3000 and loaded.table["extra_3"].dropna().tolist() == ["checked twice"]
    assert loaded.table["b"].iloc[2999] == 1499.5


def test_missing_values_are_counted_per_column(tmp_path):
    text = "a,b,c\n1,,x\nNA,2,\n3,n/a,y\n4,5,-\n"
    report = read_file(write(tmp_path, "gaps.csv", text)).report
    assert {info.name: info.missing for info in report.columns} == {"a": 1, "b": 2, "c": 2}


def test_a_single_row_is_read(tmp_path):
    loaded = read_file(write(tmp_path, "one.csv", "x,y\n1.5,2.5\n"))
    assert loaded.report.n_rows == 1 and loaded.table.iloc[0].tolist() == [1.5, 2.5]


def test_binary_junk_is_refused(tmp_path):
    junk = write(tmp_path, "data.csv", np.random.default_rng(0).bytes(4000))
    with pytest.raises(DatasetError, match="binary data"):
        read_file(junk)


def test_npz_with_an_object_array_is_refused(tmp_path):
    path = tmp_path / "arrays.npz"
    np.savez(path, X=np.zeros((3, 2)), meta=np.array([{"a": 1}, None, "x"], dtype=object))
    with pytest.raises(DatasetError, match="'meta' in arrays.npz holds Python objects, which are never loaded"):
        read_file(path)
    np.save(tmp_path / "objects.npy", np.array([object(), 1], dtype=object))
    with pytest.raises(DatasetError, match="holds Python objects"):
        read_file(tmp_path / "objects.npy")


def _png(colour, size):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_image_zip_is_resized_with_folders_as_labels(tmp_path):
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for index in range(4):
            archive.writestr(f"photos/cats/{index}.png", _png((200, 30, 30), (40, 32)))
            archive.writestr(f"photos/dogs/{index}.png", _png((30, 30, 200), (24, 24)))
        archive.writestr("photos/notes.png", b"not an image")
        archive.writestr("__MACOSX/photos/._0.png", b"resource fork")
    loaded = read_file(path)
    assert loaded.kind == "images" and loaded.images.shape == (8, 3, 32, 32)
    assert 0.0 <= loaded.images.min() and loaded.images.max() <= 1.0
    # Red cats and blue dogs keep their colours through the resize.
    cats = loaded.table["folder"] == "cats"
    assert loaded.images[cats.to_numpy(), 0].mean() > 0.7 and loaded.images[~cats.to_numpy(), 2].mean() > 0.7
    assert loaded.report.column("folder").kind == "categorical"
    assert any("notes.png" in w for w in loaded.report.warnings)
    grey = read_file(path, image_size=16, colour="grey")
    assert grey.images.shape == (8, 16, 16)


def test_utf8_bom_duplicate_headers_and_thousands_separators(tmp_path):
    text = "\ufeffamount,amount,label\n\"1,234.5\",2,a\n\"12,000\",3,b\n7.25,4,a\n"
    loaded = read_file(write(tmp_path, "sales.csv", text))
    report = loaded.report
    assert report.encoding == "utf-8-sig" and report.thousands == ","
    assert report.names() == ["amount", "amount_2", "label"]
    assert loaded.table["amount"].tolist() == [1234.5, 12000.0, 7.25]
    assert any("duplicate column name 'amount'" in note for note in report.notes)


def test_title_lines_tabs_spaces_and_no_header(tmp_path):
    titled = read_file(write(tmp_path, "report.tsv", "Quarterly report\n\nx\ty\n1\t2\n3\t4\n"))
    assert titled.report.delimiter == "\t" and titled.report.names() == ["x", "y"] and titled.report.n_rows == 2
    assert any("skipped 1 line above the header" in note for note in titled.report.notes)
    spaced = read_file(write(tmp_path, "points.txt", "0.5 1.5 2\n3 4 5\n6 7 8.5\n"))
    assert spaced.report.names() == ["column_1", "column_2", "column_3"] and spaced.report.n_rows == 3


@pytest.mark.parametrize("content, message", [
    ("", "is empty"),
    ("a,b,c\n", "has a header but no data rows"),
    ("just some words\nand more words here\nlast one\n", "one column and it holds text"),
    ("name,comment\nann,hello there\nbob,fine thanks\ncid,whatever you say\n", "no numeric column"),
])
def test_files_that_cannot_be_clustered_say_why(tmp_path, content, message):
    with pytest.raises(DatasetError, match=message):
        read_file(write(tmp_path, "bad.csv", content))


def test_size_limit_and_missing_file(tmp_path):
    path = write(tmp_path, "big.csv", "a,b\n" + "1,2\n" * 1000)
    with pytest.raises(DatasetError, match=r"big.csv is 0.0 MB, over the 0 MB limit"):
        read_file(path, max_bytes=1000)
    with pytest.raises(DatasetError, match="no file at"):
        read_file(tmp_path / "nope.csv")


def test_excel_parquet_and_numpy_files(tmp_path):
    frame = pd.DataFrame({"height": [1.7, 1.8, 1.6], "city": ["Rome", "Oslo", "Rome"]})
    workbook = tmp_path / "book.xlsx"
    with pd.ExcelWriter(workbook) as writer:
        pd.DataFrame().to_excel(writer, sheet_name="empty")
        pd.DataFrame([["Survey 2024"], [None]]).to_excel(writer, sheet_name="data", index=False, header=False)
        frame.to_excel(writer, sheet_name="data", index=False, startrow=2)
    excel = read_file(workbook)
    assert excel.report.names() == ["height", "city"] and excel.table["height"].tolist() == [1.7, 1.8, 1.6]
    assert any("sheet 'data'" in note for note in excel.report.notes)

    frame.to_parquet(tmp_path / "table.parquet")
    parquet = read_file(tmp_path / "table.parquet")
    assert parquet.report.format == "parquet" and parquet.report.column("city").kind == "categorical"

    np.savez(tmp_path / "arrays.npz", X=np.arange(12.0).reshape(6, 2), y=np.array([0, 0, 1, 1, 2, 2]))
    npz = read_file(tmp_path / "arrays.npz")
    assert npz.report.names() == ["x0", "x1", "y"] and npz.table["x1"].tolist() == [1, 3, 5, 7, 9, 11]

    np.save(tmp_path / "faces.npy", np.full((5, 6, 7), 255, dtype=np.uint8))
    images = read_file(tmp_path / "faces.npy")
    assert images.kind == "images" and images.images.shape == (5, 6, 7) and images.images.max() == 1.0


def test_a_cover_sheet_before_the_table_is_passed_over_and_said(tmp_path):
    workbook = tmp_path / "report.xlsx"
    with pd.ExcelWriter(workbook) as writer:
        pd.DataFrame({"About": ["Survey 2024, sent to members"]}).to_excel(writer, sheet_name="Cover", index=False)
        pd.DataFrame({"height": [1.7, 1.8, 1.6], "weight": [60, 72, 55]}).to_excel(writer, sheet_name="Data",
                                                                                 index=False)
    excel = read_file(workbook)
    assert excel.report.names() == ["height", "weight"] and len(excel.table) == 3
    assert "passed over 'Cover'" in excel.report.notes[0]
    only_text = tmp_path / "notes.xlsx"
    pd.DataFrame({"About": ["a note", "another"]}).to_excel(only_text, index=False)
    with pytest.raises(DatasetError) as refused:
        read_file(only_text)
    assert "one column and it holds text" in str(refused.value) and "delimiter" not in str(refused.value)


def test_file_sizes_read_as_a_person_says_them():
    assert [readable_size(n) for n in (1, 359, 49_574, 3 * 1024**2 // 2, 2 * 1024**3)] == [
        "1 byte", "359 bytes", "48 KB", "1.5 MB", "2.0 GB"]


def test_columns_without_a_name_are_named_in_the_report(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("a,,b,\n1,2,3,4\n5,6,7,8\n9,10,11,12\n")
    loaded = read_file(path)
    assert list(loaded.table.columns) == ["a", "unnamed_2", "b", "unnamed_4"]
    assert any(line.endswith("columns 2, 4 had no name and are called unnamed_2, unnamed_4")
               for line in loaded.report.summary_lines())
