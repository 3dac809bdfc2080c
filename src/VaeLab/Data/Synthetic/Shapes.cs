using static TorchSharp.torch;

namespace VaeLab.Data.Synthetic;

/// <summary>
/// Binary images of a single shape generated from known factors, in the spirit of dSprites (Matthey et
/// al. 2017): shape (square, ellipse, triangle), scale, rotation and the x/y position of its centre. The
/// factors come back beside the images, so a trained latent can be compared with the truth. Factors are
/// drawn uniformly and continuously (<see cref="ShapesGrid"/> is the discrete grid the disentanglement scores need). Note the symmetries: a square repeats every 90°, a triangle every
/// 120°, the ellipse every 180°, so rotation is only identifiable modulo those.
/// </summary>
public static class Shapes
{
    /// <summary>The shape names, indexed by the "shape" factor and the labels.</summary>
    public static IReadOnlyList<string> ShapeNames { get; } = ["square", "ellipse", "triangle"];

    /// <summary>Names of the factor columns.</summary>
    public static IReadOnlyList<string> FactorNames { get; } = ["shape", "scale", "rotation", "x", "y"];

    /// <summary>Smallest and largest scale (half-width of the shape as a fraction of the image width).</summary>
    public const double MinScale = 0.1, MaxScale = 0.2;

    /// <summary>Generates <paramref name="count"/> images of <paramref name="size"/>×<paramref name="size"/> pixels, deterministic for a seed.</summary>
    /// <returns>Images [N, 1, size, size] (float32 0/1), labels = shape, factors [shape, scale, rotation (radians), x, y (centre, in [0, 1])].</returns>
    /// <exception cref="ArgumentOutOfRangeException">A count below 1 or a size below 8.</exception>
    public static Dataset Generate(int count, long seed, int size = 28)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "The count must be at least 1.");
        if (size < 8) throw new ArgumentOutOfRangeException(nameof(size), size, "Images must be at least 8×8 pixels.");
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var n = new long[] { count };
        Tensor shape = randint(0, ShapeNames.Count, n, generator: generator);
        Tensor scale = rand(n, dtype: ScalarType.Float64, generator: generator) * (MaxScale - MinScale) + MinScale;
        Tensor rotation = rand(n, dtype: ScalarType.Float64, generator: generator) * (2 * Math.PI);
        // Keep the whole shape inside the frame: its farthest point is at most √2 · scale from the centre.
        double margin = Math.Sqrt(2) * MaxScale;
        Tensor x = rand(n, dtype: ScalarType.Float64, generator: generator) * (1 - 2 * margin) + margin;
        Tensor y = rand(n, dtype: ScalarType.Float64, generator: generator) * (1 - 2 * margin) + margin;

        Tensor images = Render(shape, scale, rotation, x, y, size);
        Tensor factors = stack(new[] { shape.to_type(ScalarType.Float64), scale, rotation, x, y }, 1).to_type(ScalarType.Float32);
        return new Dataset("shapes", $"Shapes.Generate(count: {count}, seed: {seed}, size: {size})",
            images.MoveToOuterDisposeScope(), shape.MoveToOuterDisposeScope(), factors.MoveToOuterDisposeScope(), FactorNames);
    }

    /// <summary>
    /// Draws one shape per row of the factor tensors (each [N]: shape index int64; scale, rotation in radians, centre x and y
    /// in [0, 1] as float64) on a <paramref name="size"/>×<paramref name="size"/> frame: a pixel is on when its centre lies
    /// inside the shape. Returns float32 0/1 images [N, 1, size, size]. The one rasteriser of the continuous and grid modes.
    /// </summary>
    public static Tensor Render(Tensor shape, Tensor scale, Tensor rotation, Tensor x, Tensor y, int size)
    {
        using var scope = NewDisposeScope();
        // Pixel centres in [0, 1], then each pixel in the shape's own frame: u = R(−θ)(p − c) / scale.
        Tensor grid = (arange(size, dtype: ScalarType.Float64) + 0.5) / size;
        Tensor px = grid.view(1, 1, size), py = grid.view(1, size, 1);
        Tensor dx = (px - x.view(-1, 1, 1)) / scale.view(-1, 1, 1);
        Tensor dy = (py - y.view(-1, 1, 1)) / scale.view(-1, 1, 1);
        Tensor cos = rotation.cos().view(-1, 1, 1), sin = rotation.sin().view(-1, 1, 1);
        Tensor u = cos * dx + sin * dy;
        Tensor v = -sin * dx + cos * dy;

        Tensor square = maximum(u.abs(), v.abs()) <= 1;
        Tensor ellipse = u.square() + (v / 0.5).square() <= 1;
        double root3 = Math.Sqrt(3);
        Tensor triangle = (v >= -0.5).logical_and(v <= 1 - root3 * u).logical_and(v <= 1 + root3 * u);
        Tensor kind = shape.view(-1, 1, 1);
        Tensor inside = where(kind == 0, square, where(kind == 1, ellipse, triangle));

        return inside.to_type(ScalarType.Float32).unsqueeze(1).MoveToOuterDisposeScope();
    }
}
