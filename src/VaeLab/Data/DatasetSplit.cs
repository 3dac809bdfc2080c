using static TorchSharp.torch;

namespace VaeLab.Data;

/// <summary>Deterministic splits of a dataset into two disjoint parts (train / validation or train / test).</summary>
public static class DatasetSplit
{
    /// <summary>
    /// Splits by a random permutation drawn from its own generator seeded with <paramref name="seed"/>:
    /// the same seed always gives the same split, independent of any other randomness in the process.
    /// </summary>
    /// <param name="data">The dataset to split (left unchanged).</param>
    /// <param name="heldOutCount">Examples in the second part; the rest go to the first.</param>
    /// <param name="seed">Seed of the permutation.</param>
    /// <param name="firstName">Name of the first part.</param>
    /// <param name="secondName">Name of the held-out part.</param>
    /// <exception cref="ArgumentOutOfRangeException">The held-out count leaves either part empty.</exception>
    public static (Dataset First, Dataset HeldOut) Split(Dataset data, int heldOutCount, long seed, string firstName, string secondName)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (heldOutCount <= 0 || heldOutCount >= data.Count)
            throw new ArgumentOutOfRangeException(nameof(heldOutCount), heldOutCount,
                $"The held-out part of '{data.Name}' must hold between 1 and {data.Count - 1} of its {data.Count} examples.");
        using var generator = new Generator((ulong)seed);
        using Tensor order = randperm(data.Count, generator: generator, device: data.Examples.device);
        using Tensor first = order.slice(0, 0, data.Count - heldOutCount, 1).sort().Values;
        using Tensor second = order.slice(0, data.Count - heldOutCount, data.Count, 1).sort().Values;
        return (data.Subset(first, firstName), data.Subset(second, secondName));
    }

    /// <summary>Splits off a validation fraction (rounded, at least one example) with <see cref="Split"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is not strictly between 0 and 1.</exception>
    public static (Dataset Train, Dataset Validation) TrainValidation(Dataset data, double validationFraction, long seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "The validation fraction must be strictly between 0 and 1.");
        int heldOut = Math.Clamp((int)Math.Round(validationFraction * data.Count), 1, data.Count - 1);
        return Split(data, heldOut, seed, $"{data.Name} (train part)", $"{data.Name} (validation part)");
    }
}
