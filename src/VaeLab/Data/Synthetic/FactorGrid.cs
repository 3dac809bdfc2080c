using static TorchSharp.torch;

namespace VaeLab.Data.Synthetic;

/// <summary>
/// The discrete factors of a synthetic dataset whose every combination can be enumerated (dSprites' layout): factor k
/// takes the values 0 … Sizes[k] − 1 (indices into the dataset's own table of values). A grid point is a row of
/// factor indices; its flat index is the row-major position (the last factor varies fastest), as in disentanglement_lib.
/// Sampling is uniform and independent per factor, from a caller's generator, so a seed fixes every draw.
/// </summary>
public sealed class FactorGrid
{
    /// <summary>Creates a grid.</summary>
    /// <param name="names">One name per factor.</param>
    /// <param name="sizes">The number of values of each factor, each at least 1.</param>
    /// <exception cref="ArgumentException">No factors, names and sizes of different lengths, or a size below 1.</exception>
    public FactorGrid(IReadOnlyList<string> names, IReadOnlyList<int> sizes)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Count == 0 || names.Count != sizes.Count)
            throw new ArgumentException($"A factor grid needs one name per factor and at least one factor; got {names.Count} names and {sizes.Count} sizes.", nameof(sizes));
        for (int k = 0; k < sizes.Count; k++)
            if (sizes[k] < 1) throw new ArgumentException($"Factor '{names[k]}' has {sizes[k]} values; each factor needs at least 1.", nameof(sizes));
        Names = names.ToArray();
        Sizes = sizes.ToArray();
        Count = Sizes.Aggregate(1L, (a, b) => checked(a * b));
    }

    /// <summary>Factor names.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Number of values of each factor.</summary>
    public IReadOnlyList<int> Sizes { get; }

    /// <summary>Number of factors.</summary>
    public int FactorCount => Sizes.Count;

    /// <summary>Number of grid points (the product of the sizes).</summary>
    public long Count { get; }

    /// <summary>Every grid point in flat-index order, int64 [<see cref="Count"/>, F].</summary>
    public Tensor Enumerate() => Unflatten(arange(Count, dtype: ScalarType.Int64));

    /// <summary><paramref name="count"/> grid points drawn uniformly (each factor independently), int64 [count, F].</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative count.</exception>
    public Tensor Sample(long count, Generator generator)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "Cannot draw a negative number of grid points.");
        using var scope = NewDisposeScope();
        Tensor[] columns = Sizes.Select(size => randint(0, size, [count], dtype: ScalarType.Int64, generator: generator)).ToArray();
        return stack(columns, 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <paramref name="batches"/> batches of <paramref name="batchSize"/> grid points in which one factor, drawn uniformly per
    /// batch, holds the same value for the whole batch (the value of the batch's first point) and the others are drawn freely:
    /// what the FactorVAE score needs. Returns the points [batches, batchSize, F] and the fixed factor of each batch [batches].
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than one batch or point per batch.</exception>
    public (Tensor Points, Tensor FixedFactor) SampleBatchesWithOneFactorFixed(int batches, int batchSize, Generator generator)
    {
        if (batches < 1) throw new ArgumentOutOfRangeException(nameof(batches), batches, "Draw at least one batch.");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "A batch needs at least one point.");
        using var scope = NewDisposeScope();
        Tensor fixedFactor = randint(0, FactorCount, [batches], dtype: ScalarType.Int64, generator: generator);
        Tensor points = Sample((long)batches * batchSize, generator).view(batches, batchSize, FactorCount);
        Tensor mask = nn.functional.one_hot(fixedFactor, FactorCount).to_type(ScalarType.Bool).unsqueeze(1);   // [batches, 1, F]
        Tensor result = where(mask, points.narrow(1, 0, 1), points);
        return (result.MoveToOuterDisposeScope(), fixedFactor.MoveToOuterDisposeScope());
    }

    /// <summary>Flat (row-major) indices of grid points [..., F] → [...].</summary>
    /// <exception cref="ArgumentException">The last dimension is not F, or an index is outside its factor's range.</exception>
    public Tensor FlatIndex(Tensor points)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (points.dim() < 1 || points.shape[^1] != FactorCount)
            throw new ArgumentException($"Grid points need a last dimension of {FactorCount} factors; got shape [{string.Join(", ", points.shape)}].", nameof(points));
        using var scope = NewDisposeScope();
        Tensor sizes = tensor(Sizes.Select(s => (long)s).ToArray());
        if ((points < 0).any().item<bool>() || (points >= sizes).any().item<bool>())
            throw new ArgumentException($"A grid point lies outside the grid (factor sizes {string.Join(" × ", Sizes)}).", nameof(points));
        long[] strides = Strides();
        Tensor flat = (points.to_type(ScalarType.Int64) * tensor(strides)).sum([-1]);
        return flat.MoveToOuterDisposeScope();
    }

    /// <summary>Grid points [N, F] of flat indices [N] (the inverse of <see cref="FlatIndex"/>).</summary>
    public Tensor Unflatten(Tensor flat)
    {
        ArgumentNullException.ThrowIfNull(flat);
        using var scope = NewDisposeScope();
        long[] strides = Strides();
        Tensor columns = stack(Enumerable.Range(0, FactorCount).Select(k => flat.div(strides[k], rounding_mode: RoundingMode.floor).remainder(Sizes[k])).ToArray(), -1);
        return columns.MoveToOuterDisposeScope();
    }

    long[] Strides()
    {
        var strides = new long[FactorCount];
        long stride = 1;
        for (int k = FactorCount - 1; k >= 0; k--)
        {
            strides[k] = stride;
            stride *= Sizes[k];
        }
        return strides;
    }

    /// <inheritdoc />
    public override string ToString() => string.Join(" × ", Names.Zip(Sizes, (n, s) => $"{n} {s}")) + $" = {Count:N0} points";
}
