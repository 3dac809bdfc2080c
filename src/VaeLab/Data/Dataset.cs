using static TorchSharp.torch;

namespace VaeLab.Data;

/// <summary>
/// A set of examples held as one tensor (first dimension = example), with optional class labels and
/// optional generative factors (for synthetic data whose true factors are known). Images are float32 in
/// [0, 1] with shape [N, channels, height, width]; points are [N, dimension]. Owns its tensors.
/// </summary>
public sealed class Dataset : IDisposable
{
    /// <summary>Creates a dataset, checking that labels and factors have one row per example.</summary>
    /// <param name="name">Short name, e.g. "Fashion-MNIST train".</param>
    /// <param name="origin">Where the data came from (a path, "embedded", or a generator and its seed).</param>
    /// <param name="examples">The examples, first dimension indexing them.</param>
    /// <param name="labels">Optional int64 class labels, one per example.</param>
    /// <param name="factors">Optional float32 factors [N, F] that generated each example.</param>
    /// <param name="factorNames">Names of the F factor columns (required with <paramref name="factors"/>).</param>
    /// <param name="levels">For quantised data, the number of evenly spaced values k/(levels − 1) the examples take (256 for 8-bit images); null for continuous data.</param>
    /// <exception cref="ArgumentException">Row counts or factor names do not match, or fewer than 2 levels.</exception>
    public Dataset(string name, string origin, Tensor examples, Tensor? labels = null, Tensor? factors = null, IReadOnlyList<string>? factorNames = null, int? levels = null)
    {
        if (levels is < 2)
            throw new ArgumentException($"Dataset '{name}': quantised data needs at least 2 levels, got {levels}.", nameof(levels));
        ArgumentNullException.ThrowIfNull(examples);
        if (examples.dim() < 2)
            throw new ArgumentException($"Dataset '{name}': examples need at least 2 dimensions [N, ...], got shape [{string.Join(", ", examples.shape)}].", nameof(examples));
        long count = examples.shape[0];
        if (labels is not null && (labels.dim() != 1 || labels.shape[0] != count))
            throw new ArgumentException($"Dataset '{name}': {count} examples but labels of shape [{string.Join(", ", labels.shape)}]; expected [{count}].", nameof(labels));
        if (factors is not null)
        {
            if (factors.dim() != 2 || factors.shape[0] != count)
                throw new ArgumentException($"Dataset '{name}': {count} examples but factors of shape [{string.Join(", ", factors.shape)}]; expected [{count}, F].", nameof(factors));
            if (factorNames is null || factorNames.Count != factors.shape[1])
                throw new ArgumentException($"Dataset '{name}': {factors.shape[1]} factor columns need as many names, got {factorNames?.Count ?? 0}.", nameof(factorNames));
        }
        Name = name;
        Origin = origin;
        Examples = examples;
        Labels = labels;
        Factors = factors;
        FactorNames = factorNames ?? Array.Empty<string>();
        Levels = levels;
    }

    /// <summary>Short name of the dataset.</summary>
    public string Name { get; }

    /// <summary>Where the data came from: a file path, "embedded resource", or a generator and seed.</summary>
    public string Origin { get; }

    /// <summary>The examples, [N, ...].</summary>
    public Tensor Examples { get; }

    /// <summary>Class labels (int64, [N]), or null.</summary>
    public Tensor? Labels { get; }

    /// <summary>True generative factors (float32, [N, F]), or null.</summary>
    public Tensor? Factors { get; }

    /// <summary>Names of the factor columns (empty without factors).</summary>
    public IReadOnlyList<string> FactorNames { get; }

    /// <summary>
    /// For quantised data, how many evenly spaced values the examples take: value k/(Levels − 1) for k = 0 … Levels − 1
    /// (256 for 8-bit images, 2 for binarised ones); null for continuous data. A continuous density is only a
    /// likelihood of such data after dequantisation (<see cref="Dequantization"/>).
    /// </summary>
    public int? Levels { get; }

    /// <summary>Number of examples.</summary>
    public int Count => checked((int)Examples.shape[0]);

    /// <summary>Shape of one example, e.g. [1, 28, 28].</summary>
    public long[] ExampleShape => Examples.shape[1..];

    /// <summary>Number of scalar values in one example (784 for a 28×28 image).</summary>
    public long Dimension => ExampleShape.Aggregate(1L, (a, b) => a * b);

    /// <summary>The examples at <paramref name="indices"/> (int64), as a new dataset with its own copies.</summary>
    public Dataset Subset(Tensor indices, string? name = null) =>
        new(name ?? Name, Origin, Examples.index_select(0, indices),
            Labels?.index_select(0, indices), Factors?.index_select(0, indices), FactorNames, Levels);

    /// <summary>The same dataset with every tensor on <paramref name="device"/> (new tensors).</summary>
    public Dataset To(Device device) =>
        new(Name, Origin, Examples.to(device), Labels?.to(device), Factors?.to(device), FactorNames, Levels);

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        Examples.Dispose();
        Labels?.Dispose();
        Factors?.Dispose();
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"{Name}: {Count:N0} examples of shape [{string.Join("×", ExampleShape)}]{(Levels is int l ? $", {l} levels" : "")} ({Origin})";
}
