using static TorchSharp.torch;

namespace VaeLab.Data;

/// <summary>One mini-batch: the examples, their labels if any, and their indices in the dataset.</summary>
/// <param name="Examples">The batch's examples [B, ...], on the sampler's device.</param>
/// <param name="Labels">Their labels [B], or null.</param>
/// <param name="Indices">Their positions in the dataset [B] (int64).</param>
public sealed record Batch(Tensor Examples, Tensor? Labels, Tensor Indices) : IDisposable
{
    /// <summary>Number of examples in the batch.</summary>
    public int Count => checked((int)Examples.shape[0]);

    /// <summary>Frees the batch's tensors.</summary>
    public void Dispose()
    {
        Examples.Dispose();
        Labels?.Dispose();
        Indices.Dispose();
    }
}

/// <summary>
/// Serves a dataset in mini-batches, in a fresh random order each epoch drawn from the run's generator
/// (so the same seed gives the same sequence of epochs, and no two epochs repeat one order, unlike a
/// DataLoader re-seeded with a fixed seed). Optionally binarises statically (once) or dynamically (each epoch).
/// </summary>
public sealed class BatchSampler : IDisposable
{
    readonly Tensor examples;
    readonly Tensor? labels;
    readonly bool ownsExamples;

    /// <summary>Creates a sampler over <paramref name="data"/>.</summary>
    /// <param name="data">The dataset (not copied unless binarised statically; must outlive the sampler).</param>
    /// <param name="batchSize">Examples per batch.</param>
    /// <param name="generator">The run's generator: it draws each epoch's order and the binarisation.</param>
    /// <param name="binarization">Grey levels as they are, binarised once, or binarised afresh each epoch.</param>
    /// <param name="dropLast">Whether to drop a last batch smaller than <paramref name="batchSize"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A batch size below 1.</exception>
    public BatchSampler(Dataset data, int batchSize, Generator generator, Binarization binarization = Binarization.None, bool dropLast = false)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(generator);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1.");
        Data = data;
        BatchSize = batchSize;
        Generator = generator;
        Binarization = binarization;
        DropLast = dropLast;
        labels = data.Labels;
        if (binarization == Binarization.Static)
        {
            examples = Binarize.Sample(data.Examples, generator);
            ownsExamples = true;
        }
        else
        {
            examples = data.Examples;
        }
    }

    /// <summary>The dataset served.</summary>
    public Dataset Data { get; }

    /// <summary>Examples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>The generator that orders epochs and draws binarisations.</summary>
    public Generator Generator { get; }

    /// <summary>The binarisation applied.</summary>
    public Binarization Binarization { get; }

    /// <summary>Whether a final short batch is dropped.</summary>
    public bool DropLast { get; }

    /// <summary>Batches in one epoch.</summary>
    public int BatchesPerEpoch => DropLast ? Data.Count / BatchSize : (Data.Count + BatchSize - 1) / BatchSize;

    /// <summary>Examples served in one epoch.</summary>
    public int ExamplesPerEpoch => DropLast ? BatchesPerEpoch * BatchSize : Data.Count;

    /// <summary>
    /// Draws a new order and serves one epoch of batches. The caller disposes each batch (a dispose scope
    /// per batch does it). Draws from the generator happen lazily, as batches are taken.
    /// </summary>
    public IEnumerable<Batch> NextEpoch()
    {
        Tensor order = randperm(Data.Count, generator: Generator, device: examples.device);
        try
        {
            for (int b = 0; b < BatchesPerEpoch; b++)
            {
                long start = (long)b * BatchSize, end = Math.Min(start + BatchSize, Data.Count);
                Tensor indices = order.slice(0, start, end, 1);
                Tensor x = examples.index_select(0, indices);
                if (Binarization == Binarization.Dynamic)
                {
                    Tensor grey = x;
                    x = Binarize.Sample(grey, Generator);
                    grey.Dispose();
                }
                yield return new Batch(x, labels?.index_select(0, indices), indices);
            }
        }
        finally
        {
            order.Dispose();
        }
    }

    /// <summary>Frees the statically binarised copy, if one was made.</summary>
    public void Dispose()
    {
        if (ownsExamples) examples.Dispose();
    }
}
