using VaeLab.Data.Synthetic;
using VaeLab.Models;
using static TorchSharp.torch;

namespace VaeLab.Evaluation.Disentanglement;

/// <summary>
/// A representation r(x) evaluated once at every point of a factor grid: the codes [grid points, D] in flat-index
/// order (float64). The disentanglement scores draw grid points and read their codes here instead of rendering and
/// encoding each draw again: for data whose images are a deterministic function of the factors (dSprites, the shapes
/// grid) and a deterministic representation (the encoder mean), this is exactly what disentanglement_lib computes.
/// </summary>
public sealed class GridRepresentation : IDisposable
{
    /// <summary>Wraps codes of every grid point.</summary>
    /// <param name="grid">The factor grid.</param>
    /// <param name="codes">[grid.Count, D] codes, row i the representation of grid point i; copied to float64.</param>
    /// <exception cref="ArgumentException">Not one row per grid point, no dimensions, or non-finite codes.</exception>
    public GridRepresentation(FactorGrid grid, Tensor codes)
    {
        ArgumentNullException.ThrowIfNull(grid);
        ArgumentNullException.ThrowIfNull(codes);
        if (codes.dim() != 2 || codes.shape[0] != grid.Count || codes.shape[1] < 1)
            throw new ArgumentException($"A grid representation needs codes of shape [{grid.Count}, D ≥ 1] (one row per grid point); got [{string.Join(", ", codes.shape)}].", nameof(codes));
        // Owned by this object, whatever dispose scope the caller is in.
        Tensor copy = codes.detach().to(ScalarType.Float64, CPU, copy: true).DetachFromDisposeScope();
        if (!copy.isfinite().all().item<bool>())
        {
            copy.Dispose();
            throw new ArgumentException("The representation has non-finite codes (NaN or ±∞).", nameof(codes));
        }
        Grid = grid;
        Codes = copy;
    }

    /// <summary>The factor grid.</summary>
    public FactorGrid Grid { get; }

    /// <summary>Codes of every grid point, float64 [grid.Count, D].</summary>
    public Tensor Codes { get; }

    /// <summary>Dimensions D of the representation.</summary>
    public int Dimensions => (int)Codes.shape[1];

    /// <summary>The codes of grid points [..., F] → [..., D].</summary>
    public Tensor Of(Tensor points)
    {
        using var scope = NewDisposeScope();
        Tensor flat = Grid.FlatIndex(points);
        long[] shape = [.. flat.shape, Dimensions];
        return Codes.index_select(0, flat.reshape(-1)).view(shape).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The encoder means μ(x) of every grid point of <see cref="ShapesGrid"/>, rendered and encoded in batches without
    /// gradients: the representation the disentanglement literature scores.
    /// </summary>
    public static GridRepresentation EncoderMeans(VariationalAutoencoder model, int batchSize = 2048)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1.");
        bool training = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            FactorGrid grid = ShapesGrid.Factors;
            ScalarType dtype = model.parameters().First().dtype;
            var means = new List<Tensor>();
            for (long start = 0; start < grid.Count; start += batchSize)
            {
                using var batchScope = NewDisposeScope();
                Tensor points = grid.Unflatten(arange(start, Math.Min(start + batchSize, grid.Count), dtype: ScalarType.Int64));
                Tensor mean = model.Locate(ShapesGrid.Render(points).to_type(dtype)).to_type(ScalarType.Float64);
                means.Add(mean.MoveToOuterDisposeScope());
            }
            return new GridRepresentation(grid, cat(means, 0));
        }
        finally
        {
            model.train(training);
        }
    }

    /// <summary>Frees the codes.</summary>
    public void Dispose() => Codes.Dispose();
}
