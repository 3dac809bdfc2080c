using System.Buffers.Binary;
using System.IO.Compression;
using VaeLab.Data;

namespace VaeLab.Tests.Data;

public class IdxReaderTests : IDisposable
{
    readonly TempDirectory folder = new();

    public void Dispose() => folder.Dispose();

    static byte[] Header(byte type, params int[] dimensions)
    {
        var header = new byte[4 + 4 * dimensions.Length];
        header[2] = type;
        header[3] = (byte)dimensions.Length;
        for (int d = 0; d < dimensions.Length; d++) BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * d), dimensions[d]);
        return header;
    }

    static byte[] Pixels(int count) => Enumerable.Range(0, count).Select(i => (byte)(i * 7 % 256)).ToArray();

    string WriteRaw(string name, byte[] content)
    {
        string path = folder.File(name);
        File.WriteAllBytes(path, content);
        return path;
    }

    string WriteGzip(string name, byte[] content)
    {
        string path = folder.File(name);
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(content);
        return path;
    }

    [Theory]
    [InlineData("images-idx3-ubyte")]
    [InlineData("images-idx3-ubyte.gz")]
    public void WrittenFileReadsBackWithTheSameShapeAndBytes(string name)
    {
        byte[] pixels = Pixels(5 * 4 * 3);
        string path = folder.File(name);
        IdxWriter.Write(path, [5, 4, 3], pixels);

        using IdxArray array = IdxReader.Read(path);
        Assert.Equal(new[] { 5, 4, 3 }, array.Dimensions);
        Assert.Equal(5, array.Count);
        Assert.Equal(new long[] { 5, 4, 3 }, array.Data.shape);
        Assert.Equal(pixels, array.Data.bytes.ToArray());
        Assert.Equal(path, array.Source);
        Assert.Empty(Directory.GetFiles(folder.Path, "*.tmp*"));
    }

    [Fact]
    public void GzipIsDetectedFromContentEvenWithoutTheSuffix()
    {
        byte[] pixels = Pixels(6);
        string path = WriteGzip("labels-idx1-ubyte", [.. Header(0x08, 6), .. pixels]);
        using IdxArray array = IdxReader.Read(path);
        Assert.Equal(pixels, array.Data.bytes.ToArray());
    }

    [Fact]
    public void BadMagicNumberIsNamed()
    {
        byte[] content = [.. Header(0x08, 2), 1, 2];
        content[0] = 0x12;
        string path = WriteRaw("bad-magic", content);
        var error = Assert.Throws<IdxFormatException>(() => IdxReader.Read(path));
        Assert.Equal(path, error.Source);
        Assert.Contains(path, error.Message);
        Assert.Contains("bad magic number 0x12 0x00 0x08 0x01", error.Message);
    }

    [Fact]
    public void UnsupportedElementTypeIsNamed()
    {
        string path = WriteRaw("floats", [.. Header(0x0D, 1), 0, 0, 0, 0]);
        var error = Assert.Throws<IdxFormatException>(() => IdxReader.Read(path));
        Assert.Contains("element type 0x0D (32-bit float)", error.Message);
        Assert.Contains("expected 0x08", error.Message);
    }

    [Fact]
    public void TruncatedDataSaysHowMuchWasExpectedAndFound()
    {
        string path = WriteGzip("short.gz", [.. Header(0x08, 10, 2, 2), .. Pixels(25)]);
        var error = Assert.Throws<IdxFormatException>(() => IdxReader.Read(path));
        Assert.Contains("truncated", error.Message);
        Assert.Contains("10×2×2", error.Message);
        Assert.Contains("need 40 bytes", error.Message);
        Assert.Contains("holds 25", error.Message);
    }

    [Fact]
    public void TruncatedHeaderIsNamed()
    {
        byte[] header = Header(0x08, 10, 2, 2);
        string path = WriteRaw("short-header", header[..9]);
        var error = Assert.Throws<IdxFormatException>(() => IdxReader.Read(path));
        Assert.Contains("header is truncated", error.Message);
    }

    [Fact]
    public void BytesBeyondWhatTheHeaderAnnouncesAreRefused()
    {
        string path = WriteRaw("long", [.. Header(0x08, 3), .. Pixels(5)]);
        var error = Assert.Throws<IdxFormatException>(() => IdxReader.Read(path));
        Assert.Contains("longer than its header says", error.Message);
        Assert.Contains("exactly 3 data bytes", error.Message);
    }

    [Fact]
    public void DotGzNameWithoutGzipContentIsRefused()
    {
        string path = WriteRaw("plain.gz", [.. Header(0x08, 2), 1, 2]);
        var error = Assert.Throws<IdxFormatException>(() => IdxReader.Read(path));
        Assert.Contains("ends in .gz but the content is not gzip-compressed", error.Message);
        Assert.Contains("0x00 0x00", error.Message);
    }

    [Fact]
    public void CorruptGzipIsRefused()
    {
        string good = WriteGzip("good.gz", [.. Header(0x08, 64), .. Pixels(64)]);
        byte[] content = File.ReadAllBytes(good);
        for (int i = 12; i < content.Length - 8; i++) content[i] ^= 0x5A;
        string path = WriteRaw("corrupt.gz", content);
        var error = Assert.Throws<IdxFormatException>(() => IdxReader.Read(path));
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        string path = folder.File("absent-idx3-ubyte");
        var error = Assert.Throws<FileNotFoundException>(() => IdxReader.Read(path));
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void ImagesAndLabelsLoadAsScaledFloatImagesAndInt64Labels()
    {
        byte[] pixels = [0, 255, 51, 102, 0, 0, 0, 0];
        string images = folder.File("i-idx3-ubyte");
        string labels = folder.File("l-idx1-ubyte");
        IdxWriter.Write(images, [2, 2, 2], pixels);
        IdxWriter.Write(labels, [2], [3, 9]);
        using Dataset data = IdxDatasets.Load(images, labels, "tiny");
        Assert.Equal(new long[] { 2, 1, 2, 2 }, data.Examples.shape);
        Assert.Equal(ScalarType.Float32, data.Examples.dtype);
        Assert.Equal(new float[] { 0f, 1f, 0.2f, 0.4f, 0, 0, 0, 0 }, data.Examples.data<float>().ToArray());
        Assert.Equal(new long[] { 3, 9 }, data.Labels!.data<long>().ToArray());
    }

    [Fact]
    public void ImageAndLabelCountMismatchNamesBothFiles()
    {
        string images = folder.File("i-idx3-ubyte");
        string labels = folder.File("l-idx1-ubyte");
        IdxWriter.Write(images, [3, 2, 2], Pixels(12));
        IdxWriter.Write(labels, [2], [1, 2]);
        var error = Assert.Throws<IdxFormatException>(() => IdxDatasets.Load(images, labels, "mismatch"));
        Assert.Contains(labels, error.Message);
        Assert.Contains(images, error.Message);
        Assert.Contains("2 labels", error.Message);
        Assert.Contains("3 images", error.Message);
    }

    [Fact]
    public void LabelsFileGivenAsImagesIsRefusedForItsRank()
    {
        string labels = folder.File("l-idx1-ubyte");
        IdxWriter.Write(labels, [2], [1, 2]);
        var error = Assert.Throws<IdxFormatException>(() => IdxDatasets.Load(labels, labels, "swapped"));
        Assert.Contains("3 dimensions", error.Message);
    }

    [Fact]
    public void WriterRefusesDataThatDoesNotMatchTheDimensions()
    {
        string path = folder.File("x-idx1-ubyte");
        var error = Assert.Throws<ArgumentException>(() => IdxWriter.Write(path, [4], [1, 2, 3]));
        Assert.Contains("need 4 bytes", error.Message);
        Assert.False(File.Exists(path));
    }

    [Theory]
    [InlineData("huge-idx3-ubyte")]
    [InlineData("huge-idx3-ubyte.gz")]
    [InlineData("huge-lying-trailer-idx3-ubyte.gz")]
    public void AHeaderClaimingFarMoreThanTheFileHoldsIsRefusedBeforeItsMemoryIsAllocated(string name)
    {
        // 2,000,000,000 × 1 × 1 images in a file of 100 data bytes: refused from the file's size (raw) or from the data actually
        // decompressed (gzip), never by allocating 2 GB first.
        byte[] content = [.. Header(IdxReader.UnsignedByteType, 2_000_000_000, 1, 1), .. Pixels(100)];
        string path = name.EndsWith(".gz", StringComparison.Ordinal) ? WriteGzip(name, content) : WriteRaw(name, content);
        if (name.Contains("lying", StringComparison.Ordinal))
        {
            // gzip's trailer agreeing with the header (2,000,000,016 bytes) is not believed from a file of a few hundred bytes.
            byte[] gz = File.ReadAllBytes(path);
            BinaryPrimitives.WriteUInt32LittleEndian(gz.AsSpan(gz.Length - 4), 2_000_000_016);
            File.WriteAllBytes(path, gz);
        }
        long before = GC.GetTotalAllocatedBytes(precise: true);
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        process.Refresh();
        long peakBefore = process.PeakWorkingSet64;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = Assert.Throws<IdxFormatException>(() => IdxReader.Read(path));
        clock.Stop();
        Assert.Contains(path, error.Message);
        Assert.Contains(name.Contains("lying", StringComparison.Ordinal) ? path : "the data is truncated: the header's dimensions 2000000000×1×1 need 2,000,000,000 bytes, the file holds 100", error.Message);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 16 << 20, "managed memory grew by more than 16 MB");
        process.Refresh();
        Assert.True(process.PeakWorkingSet64 - peakBefore < 256L << 20, $"the peak working set grew by {(process.PeakWorkingSet64 - peakBefore) >> 20} MB");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed.TotalSeconds:F2} s");
    }

    [Fact]
    public void AMultiMemberGzipFileStillReads()
    {
        // gzip's trailer states only the last member's size: such a file is read in chunks rather than refused.
        byte[] content = [.. Header(IdxReader.UnsignedByteType, 3, 2, 2), .. Pixels(12)];
        string path = folder.File("multi-idx3-ubyte.gz");
        using (var file = File.Create(path))
        {
            foreach (var part in new[] { content[..10], content[10..] })
                using (var gzip = new GZipStream(file, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(part);
        }
        using IdxArray array = IdxReader.Read(path);
        Assert.Equal([3, 2, 2], array.Dimensions);
        Assert.Equal(Pixels(12), array.Data.data<byte>().ToArray());
    }
}
