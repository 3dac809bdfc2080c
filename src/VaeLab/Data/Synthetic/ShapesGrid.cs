using static TorchSharp.torch;

namespace VaeLab.Data.Synthetic;

/// <summary>
/// <see cref="Shapes"/> on a discrete factor grid, dSprites' layout (Matthey et al. 2017) at 28×28: shape 3 (square,
/// ellipse, triangle) × scale 6 × rotation 10 × x 13 × y 13 = 30,420 images, every one renderable from its factor indices.
/// The disentanglement scores (MIG, FactorVAE, β-VAE) draw grid points with chosen factors shared and look at the
/// representation of each. Each factor has at most 20 values, so the 20 equal-width bins of MIG separate all of them.
/// Rotation covers [0°, 90°) in 9° steps: no two grid points of one shape show the same figure, but the square's
/// 90° symmetry makes 81° look like −9°, so for the square the factor is circular. Positions are one pixel apart and
/// keep every shape inside the frame; scales are 0.10 … 0.20 of the width (half-widths 2.8 … 5.6 pixels).
/// </summary>
public static class ShapesGrid
{
    /// <summary>Image side in pixels.</summary>
    public const int ImageSize = 28;

    /// <summary>The factors and their sizes: shape 3, scale 6, rotation 10, x 13, y 13.</summary>
    public static FactorGrid Factors { get; } = new(Shapes.FactorNames, [3, 6, 10, 13, 13]);

    static readonly double Margin = Math.Sqrt(2) * Shapes.MaxScale;

    /// <summary>
    /// The values of factor <paramref name="factor"/> in the units of <see cref="Shapes.Generate"/>'s factor columns: shape index;
    /// scale as a fraction of the width; rotation in radians; x and y of the centre in [0, 1].
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a factor index.</exception>
    public static double[] Values(int factor) => factor switch
    {
        0 => [0, 1, 2],
        1 => Evenly(Shapes.MinScale, Shapes.MaxScale, 6),
        2 => Enumerable.Range(0, 10).Select(k => k * Math.PI / 20).ToArray(),
        3 or 4 => Evenly(Margin, 1 - Margin, 13),
        _ => throw new ArgumentOutOfRangeException(nameof(factor), factor, $"The shapes grid has factors 0 … {Factors.FactorCount - 1}."),
    };

    static double[] Evenly(double low, double high, int count) =>
        Enumerable.Range(0, count).Select(i => low + (high - low) * i / (count - 1)).ToArray();

    /// <summary>The factor values (float32 [N, 5], <see cref="Shapes.Generate"/>'s columns) of grid points [N, 5].</summary>
    public static Tensor FactorValues(Tensor points)
    {
        using var scope = NewDisposeScope();
        Factors.FlatIndex(points);   // validates the points
        Tensor[] columns = Enumerable.Range(0, Factors.FactorCount)
            .Select(k => tensor(Values(k)).index_select(0, points[.., k].to_type(ScalarType.Int64))).ToArray();
        return stack(columns, 1).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>The images of grid points [N, 5] (factor indices), float32 0/1 [N, 1, 28, 28], rendered in chunks.</summary>
    /// <exception cref="ArgumentException">A point outside the grid.</exception>
    public static Tensor Render(Tensor points)
    {
        ArgumentNullException.ThrowIfNull(points);
        Factors.FlatIndex(points);
        const long chunk = 2048;   // the rasteriser's float64 temporaries stay near 100 MB
        var images = new List<Tensor>();
        for (long start = 0; start < points.shape[0]; start += chunk)
        {
            using var scope = NewDisposeScope();
            Tensor values = FactorValues(points.narrow(0, start, Math.Min(chunk, points.shape[0] - start))).to_type(ScalarType.Float64);
            Tensor image = Shapes.Render(values[.., 0].to_type(ScalarType.Int64), values[.., 1], values[.., 2], values[.., 3], values[.., 4], ImageSize);
            images.Add(image.MoveToOuterDisposeScope());
        }
        if (images.Count == 0) return zeros(0, 1, ImageSize, ImageSize);
        Tensor all = cat(images, 0);
        foreach (Tensor t in images) t.Dispose();
        return all;
    }

    /// <summary>The image of one grid point (five factor indices), as 28 × 28 float32 pixels 0/1, row by row.</summary>
    /// <exception cref="ArgumentException">A point outside the grid or of another length.</exception>
    public static float[] RenderPoint(params long[] factorIndices)
    {
        ArgumentNullException.ThrowIfNull(factorIndices);
        if (factorIndices.Length != Factors.FactorCount)
            throw new ArgumentException($"A grid point has {Factors.FactorCount} factor indices ({string.Join(", ", Factors.Names)}), not {factorIndices.Length}.", nameof(factorIndices));
        using var scope = NewDisposeScope();
        return Render(tensor(factorIndices).unsqueeze(0)).view(-1).data<float>().ToArray();
    }

    /// <summary>
    /// The grid as training and test data: a permutation drawn from <paramref name="seed"/> holds out
    /// <paramref name="testCount"/> grid points for testing, the rest train (optionally only the first
    /// <paramref name="trainCount"/> of them). Factors come back as values (<see cref="Shapes.Generate"/>'s columns), labels as shapes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Counts that leave either part empty.</exception>
    public static DataChoice Split(int testCount, long seed, int? trainCount = null)
    {
        long total = Factors.Count;
        if (testCount < 1 || testCount >= total)
            throw new ArgumentOutOfRangeException(nameof(testCount), testCount, $"The shapes grid has {total:N0} points: hold out between 1 and {total - 1}.");
        if (trainCount is < 1 || trainCount > total - testCount)
            throw new ArgumentOutOfRangeException(nameof(trainCount), trainCount, $"After {testCount:N0} test points the shapes grid has {total - testCount:N0} for training.");
        using var generator = new Generator((ulong)seed);
        using Tensor order = randperm(total, generator: generator);
        using Tensor testIndices = order.narrow(0, 0, testCount);
        using Tensor trainIndices = order.narrow(0, testCount, trainCount ?? total - testCount);
        string origin = $"ShapesGrid.Split(testCount: {testCount}, seed: {seed}{(trainCount is null ? "" : $", trainCount: {trainCount}")})";
        Dataset Part(Tensor flat, string name)
        {
            using var scope = NewDisposeScope();
            Tensor points = Factors.Unflatten(flat);
            Tensor values = FactorValues(points);
            Tensor labels = points[.., 0].contiguous();
            return new Dataset(name, origin, Render(points).MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope(), values.MoveToOuterDisposeScope(), Shapes.FactorNames);
        }
        return new DataChoice(Part(trainIndices, "shapes grid (train)"), Part(testIndices, "shapes grid (test)"),
            $"shapes grid ({Factors}), {trainCount ?? total - testCount:N0} training and {testCount:N0} held-out test points (seed {seed})");
    }
}
