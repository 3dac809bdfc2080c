using VaeLab.Data;
using VaeLab.Models;
using static TorchSharp.torch;

namespace VaeLab.Evaluation;

/// <summary>Points of a 2-D latent space: the encoder means of test examples, with their classes.</summary>
/// <param name="Z1">First coordinate of each mean.</param>
/// <param name="Z2">Second coordinate.</param>
/// <param name="Labels">Class of each example (−1 when the data has none).</param>
public sealed record LatentScatter(double[] Z1, double[] Z2, int[] Labels);

/// <summary>
/// What a trained VAE looks like, as pictures: reconstructions, prior samples, latent traversals,
/// interpolations, the 2-D manifold (Kingma and Welling 2014, figure 4) and the 2-D latent means.
/// Images are the likelihood's mean; everything runs without gradients on the CPU.
/// </summary>
public static class LatentFigures
{
    /// <summary>Inputs (top row) above their reconstructions (bottom row).</summary>
    public static ImageMosaic Reconstructions(VariationalAutoencoder model, Dataset data, int count = 10)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (h, w) = Size(model);
        Tensor x = data.Examples.slice(0, 0, Math.Min(count, data.Count), 1);
        Tensor reconstructions = model.Reconstruct(x);
        var images = Rows(x, h * w).Concat(Rows(reconstructions, h * w)).ToArray();
        return ImageMosaic.Tile(images, h, w, 2, images.Length / 2, "inputs (top) and reconstructions at z = μ(x) (bottom)");
    }

    /// <summary><paramref name="rows"/> × <paramref name="columns"/> draws z ~ N(0, I) decoded to the likelihood's mean.</summary>
    public static ImageMosaic Samples(VariationalAutoencoder model, int rows = 4, int columns = 10, long seed = 0)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var (h, w) = Size(model);
        return ImageMosaic.Tile(Rows(model.Sample(rows * columns, generator), h * w).ToArray(), h, w, rows, columns, "samples from the prior, decoded");
    }

    /// <summary>One row per latent dimension (the first <paramref name="dimensions"/>): that coordinate swept over [−3, 3], the others at μ of the first example.</summary>
    public static ImageMosaic Traversals(VariationalAutoencoder model, Dataset data, int dimensions = 10, int steps = 9) =>
        Traversals(model, data, Enumerable.Range(0, (int)Math.Min(dimensions, model.LatentDimensions)).ToArray(), steps,
            "latent traversals: row j sweeps z_j from −3 to 3, the rest held at μ(x)");

    /// <summary>
    /// One row per latent in <paramref name="latents"/>, in that order (e.g. sorted by the factor each captures): the
    /// coordinate swept over [−3, 3], the others at μ of the first example.
    /// </summary>
    /// <exception cref="ArgumentException">No latents, or one outside the model's latent size.</exception>
    public static ImageMosaic Traversals(VariationalAutoencoder model, Dataset data, IReadOnlyList<int> latents, int steps, string caption)
    {
        ArgumentNullException.ThrowIfNull(latents);
        if (latents.Count == 0 || latents.Any(j => j < 0 || j >= model.LatentDimensions))
            throw new ArgumentException($"Traversals need latents in 0 … {model.LatentDimensions - 1}; got [{string.Join(", ", latents)}].", nameof(latents));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (h, w) = Size(model);
        Tensor anchor = model.Locate(data.Examples.slice(0, 0, 1, 1));         // [1, latent]
        Tensor values = linspace(-3, 3, steps, dtype: anchor.dtype);
        Tensor z = anchor.repeat(latents.Count * steps, 1);
        for (int row = 0; row < latents.Count; row++) z.slice(0, row * steps, (row + 1) * steps, 1)[.., latents[row]] = values;
        Tensor images = model.Likelihood.Mean(model.Decode(z));
        return ImageMosaic.Tile(Rows(images, h * w).ToArray(), h, w, latents.Count, steps, caption);
    }

    /// <summary>Straight lines in latent space between the means of pairs of examples, decoded.</summary>
    public static ImageMosaic Interpolations(VariationalAutoencoder model, Dataset data, int pairs = 4, int steps = 10)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (h, w) = Size(model);
        Tensor mean = model.Locate(data.Examples.slice(0, 0, 2 * pairs, 1));
        Tensor t = linspace(0, 1, steps).unsqueeze(1);
        var images = new List<float[]>();
        for (int p = 0; p < pairs; p++)
        {
            Tensor z = mean[2 * p].unsqueeze(0) * (1 - t) + mean[2 * p + 1].unsqueeze(0) * t;
            images.AddRange(Rows(model.Likelihood.Mean(model.Decode(z)), h * w));
        }
        return ImageMosaic.Tile(images, h, w, pairs, steps, "interpolations between the latent means of two inputs");
    }

    /// <summary>
    /// For a 2-D latent: decode a grid of z = Φ⁻¹(u) for u evenly spaced in (0, 1), so equal areas of the grid carry equal
    /// prior mass (Kingma and Welling's figure 4).
    /// </summary>
    /// <exception cref="ArgumentException">A latent that is not 2-D.</exception>
    public static ImageMosaic Manifold(VariationalAutoencoder model, int size = 15)
    {
        if (model.LatentDimensions != 2) throw new ArgumentException("The manifold figure needs a 2-D latent.", nameof(model));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (h, w) = Size(model);
        Tensor u = linspace(0.5 / size, 1 - 0.5 / size, size);
        Tensor axis = special.ndtri(u);
        Tensor[] grid = meshgrid([axis.flip(0), axis], indexing: "ij");     // rows: z₂ from high to low; columns: z₁
        Tensor z = stack([grid[1].reshape(-1), grid[0].reshape(-1)], 1);
        Tensor images = model.Likelihood.Mean(model.Decode(z));
        return ImageMosaic.Tile(Rows(images, h * w).ToArray(), h, w, size, size, "the learned 2-D manifold: z = Φ⁻¹(u) on an even grid of u");
    }

    /// <summary>Encoder means of the first <paramref name="count"/> examples of a 2-D latent model, with their labels.</summary>
    public static LatentScatter Scatter(VariationalAutoencoder model, Dataset data, int count = 2000)
    {
        if (model.LatentDimensions != 2) throw new ArgumentException("The latent scatter needs a 2-D latent.", nameof(model));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        int n = Math.Min(count, data.Count);
        Tensor mean = model.Locate(data.Examples.slice(0, 0, n, 1)).to_type(ScalarType.Float64);
        int[] labels = data.Labels is null ? Enumerable.Repeat(-1, n).ToArray()
            : data.Labels.slice(0, 0, n, 1).to_type(ScalarType.Int32).data<int>().ToArray();
        return new LatentScatter(mean[.., 0].data<double>().ToArray(), mean[.., 1].data<double>().ToArray(), labels);
    }

    static (int Height, int Width) Size(VariationalAutoencoder model) =>
        model.InputShape.Count >= 2 ? ((int)model.InputShape[^2], (int)model.InputShape[^1]) : (1, (int)model.InputDimensions);

    static IEnumerable<float[]> Rows(Tensor images, long pixels)
    {
        float[] all = images.to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        for (long start = 0; start < all.Length; start += pixels)
            yield return all[(int)start..(int)(start + pixels)];
    }
}
