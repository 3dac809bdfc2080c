using System.Diagnostics;
using VaeLab.Data;
using static TorchSharp.torch;

namespace VaeLab.Benchmarks;

/// <summary>Time to load an MNIST-format image file (and its labels) into float32 tensors.</summary>
/// <param name="Source">Which files were read.</param>
/// <param name="Images">Images loaded per run.</param>
/// <param name="Repeats">Timed runs (after one untimed warm-up).</param>
/// <param name="MedianSeconds">Median wall time of a whole load (read, decompress, validate, convert), seconds.</param>
/// <param name="MinSeconds">Fastest run, seconds.</param>
/// <param name="MedianReadSeconds">Median time of the file part alone (read, decompress, validate), seconds.</param>
/// <param name="ColdSeconds">The first, untimed-for-the-median load of the process (JIT, first touch of memory), seconds.</param>
/// <param name="BaselineSeconds">The same load written the plain way (gunzip into a byte[], a managed loop into a
/// float[], then torch.tensor of that array), once, seconds: the comparison point.</param>
public sealed record IdxLoadResult(string Source, int Images, int Repeats, double MedianSeconds, double MinSeconds,
    double MedianReadSeconds, double ColdSeconds, double BaselineSeconds);

/// <summary>Measures <see cref="IdxDatasets"/> on the largest Fashion-MNIST images file available.</summary>
public static class IdxLoadBenchmark
{
    /// <summary>
    /// Loads the training split of the full Fashion-MNIST (60,000 images) when installed, else the
    /// embedded test split (10,000), <paramref name="repeats"/> times after a warm-up.
    /// </summary>
    public static IdxLoadResult Run(int repeats = 7, string? directory = null)
    {
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), repeats, "At least one timed run is needed.");
        directory ??= MnistFormatDirectory.IsComplete(FashionMnist.SystemDirectory) ? FashionMnist.SystemDirectory : null;
        Func<(IdxArray Images, IdxArray Labels)> read;
        string source;
        if (directory is not null)
        {
            string images = Path.Combine(directory, "train-images-idx3-ubyte.gz"), labels = Path.Combine(directory, "train-labels-idx1-ubyte.gz");
            read = () => (IdxReader.Read(images), IdxReader.Read(labels));
            source = images;
        }
        else
        {
            read = FashionMnist.ReadEmbeddedFiles;
            source = "embedded Fashion-MNIST test split (the full set is not installed)";
        }

        var total = new List<double>();
        var fileOnly = new List<double>();
        int count = 0;
        double cold = 0;
        for (int run = 0; run <= repeats; run++)
        {
            var clock = Stopwatch.StartNew();
            var (imagesArray, labelsArray) = read();
            using var images = imagesArray;
            using var labels = labelsArray;
            double readSeconds = clock.Elapsed.TotalSeconds;
            using Dataset data = IdxDatasets.FromArrays(imagesArray, labelsArray, "benchmark", source);
            double seconds = clock.Elapsed.TotalSeconds;
            count = data.Count;
            if (run == 0) { cold = seconds; continue; } // warm-up: JIT, first touch of the file cache and of memory
            total.Add(seconds);
            fileOnly.Add(readSeconds);
        }
        double baseline = directory is null ? double.NaN : PlainLoad(Path.Combine(directory, "train-images-idx3-ubyte.gz"));
        return new IdxLoadResult(source, count, repeats, Median(total), total.Min(), Median(fileOnly), cold, baseline);
    }

    // How the load is usually written first: every byte through a managed float[] and a second copy into torch.
    static double PlainLoad(string path)
    {
        var clock = Stopwatch.StartNew();
        using var file = File.OpenRead(path);
        using var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress);
        using var buffer = new MemoryStream();
        gzip.CopyTo(buffer);
        byte[] bytes = buffer.ToArray();
        int count = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4));
        int rows = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(8));
        int cols = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(12));
        var pixels = new float[(long)count * rows * cols];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = bytes[16 + i] / 255f;
        using Tensor images = tensor(pixels, [count, 1, rows, cols]);
        return clock.Elapsed.TotalSeconds;
    }

    static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
