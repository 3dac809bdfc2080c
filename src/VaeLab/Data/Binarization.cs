using static TorchSharp.torch;

namespace VaeLab.Data;

/// <summary>
/// How grey levels in [0, 1] become the binary pixels a Bernoulli decoder models.
/// </summary>
public enum Binarization
{
    /// <summary>Keep grey levels (the pytorch/examples recipe: Bernoulli likelihood on grey values).</summary>
    None,

    /// <summary>One Bernoulli draw per pixel, made once and kept for all epochs (Salakhutdinov and Murray 2008).</summary>
    Static,

    /// <summary>A fresh Bernoulli draw each time an example is served, i.e. each epoch (less over-fitting).</summary>
    Dynamic,
}

/// <summary>The Bernoulli draw behind <see cref="Binarization"/>.</summary>
public static class Binarize
{
    /// <summary>Draws 0/1 values with probabilities <paramref name="greyLevels"/> (in [0, 1]) from <paramref name="generator"/>.</summary>
    public static Tensor Sample(Tensor greyLevels, Generator generator) => bernoulli(greyLevels, generator);

    /// <summary>A statically binarised copy of a dataset: one draw per pixel from a generator seeded with <paramref name="seed"/>.</summary>
    public static Dataset Static(Dataset data, long seed)
    {
        using var generator = new Generator((ulong)seed);
        return new Dataset(data.Name + " (binarised)", $"{data.Origin}; static binarisation, seed {seed}",
            Sample(data.Examples, generator), data.Labels?.clone(), data.Factors?.clone(), data.FactorNames, levels: 2);
    }
}
