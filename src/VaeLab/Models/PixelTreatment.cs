using VaeLab.Data;
using static TorchSharp.torch;

namespace VaeLab.Models;

/// <summary>
/// How a likelihood sees a dataset, and what its numbers then mean: the binarisation or dequantisation applied to each batch,
/// and the change-of-variables term that turns the density of dequantised pixels into a bound on the probability of the
/// discrete image. Resolved once per run (<see cref="Resolve"/>) and used by training and evaluation alike, so every
/// reported log-likelihood and bits/dim of quantised data is −log₂ of a probability of the image (or a bound on it), or
/// says plainly that it is not.
/// </summary>
/// <param name="Binarization">Bernoulli draws applied to grey levels (then the data has 2 levels).</param>
/// <param name="Dequantize">Whether uniform dequantisation x̃ = (k + u)/L is applied.</param>
/// <param name="Levels">Levels of the data the likelihood sees (after binarisation), or null for continuous data.</param>
/// <param name="Label">A short label for tables, e.g. "8-bit image, bound (dequantised)".</param>
/// <param name="Meaning">What the figures are, in a sentence.</param>
/// <param name="IsProbabilityOfData">Whether the figures are log-probabilities of the discrete data (or bounds on them).</param>
public sealed record PixelTreatment(Binarization Binarization, bool Dequantize, int? Levels, string Label, string Meaning, bool IsProbabilityOfData)
{
    /// <summary>
    /// Decides the treatment of <paramref name="data"/> for <paramref name="likelihood"/>: a continuous density on quantised data is
    /// dequantised (Auto, Uniform) and refused raw (None); a discretised likelihood needs data of its own number of levels;
    /// dequantisation is only for continuous densities.
    /// </summary>
    /// <exception cref="ArgumentException">A combination whose numbers would mean nothing, with what to do instead.</exception>
    public static PixelTreatment Resolve(Likelihood likelihood, Dataset data, Binarization binarization = Binarization.None, Dequantization dequantization = Dequantization.Auto)
    {
        ArgumentNullException.ThrowIfNull(likelihood);
        ArgumentNullException.ThrowIfNull(data);
        int? levels = binarization == Binarization.None ? data.Levels : 2;
        string what = levels switch { 256 => "8-bit image", 2 => "binary image", int l => $"{l}-level image", null => "continuous data" };
        if (dequantization == Dequantization.Uniform && !likelihood.IsContinuousDensity)
            throw new ArgumentException($"Dequantisation is for continuous densities; {likelihood.Description} already puts its mass on discrete values. Leave --dequantize at Auto.", nameof(dequantization));
        if (likelihood.DiscreteLevels is int own)
        {
            if (levels != own)
                throw new ArgumentException($"{likelihood.Description} models pixels of {own} levels, but '{data.Name}' holds {(levels is null ? "continuous values" : $"{levels}-level values")}; use it on {own}-level data, or a Gaussian or Bernoulli likelihood.", nameof(data));
            return new PixelTreatment(binarization, false, levels, what, $"log P({what}): a probability mass over the {own} levels of every pixel", true);
        }
        if (likelihood.IsContinuousDensity)
        {
            if (levels is null)
                return new PixelTreatment(binarization, false, null, "log density", "log density of continuous data (not a probability)", false);
            if (dequantization == Dequantization.None)
                throw new ArgumentException(
                    $"{likelihood.Description} is a density, but '{data.Name}' holds {levels}-level pixels: on raw discrete values a density grows without bound " +
                    $"as σ shrinks (a learned σ reports positive ELBOs and negative bits/dim) and compares with nothing. Dequantise (--dequantize Uniform, the default) " +
                    "or use a discretised likelihood (--likelihood DiscretizedGaussian or DiscretizedLogistic).", nameof(dequantization));
            return new PixelTreatment(binarization, true, levels, $"{what}, bound (dequantised)",
                $"a lower bound on log P({what}): the density of uniformly dequantised pixels x̃ = (k + u)/{levels} minus D·log {levels}", true);
        }
        // Bernoulli: a mass on binary pixels, a cross-entropy on grey levels.
        return levels == 2
            ? new PixelTreatment(binarization, false, 2, "binary image", "log P(binary image): a Bernoulli mass on every pixel", true)
            : new PixelTreatment(binarization, false, levels, "grey-level cross-entropy",
                "Bernoulli cross-entropy on grey levels: not a probability of the image (compare only with other Bernoulli grey-level runs)", false);
    }

    /// <summary>D·log L when dequantised (nats, per example), else 0: subtract it from every log-likelihood of the treated data.</summary>
    public double LogJacobianNats(long dimensions) => Dequantize ? PixelBins.LogJacobianNats(dimensions, Levels!.Value) : 0;

    /// <summary>
    /// Held-out data as the likelihood sees it: binarised (one draw) and/or dequantised with draws from <paramref name="generator"/>,
    /// or unchanged (the same tensor). Training batches come binarised from the <see cref="BatchSampler"/> and go through
    /// <see cref="Dequantized"/> only.
    /// </summary>
    public Tensor Apply(Tensor x, Generator generator)
    {
        if (Binarization != Binarization.None) x = Binarize.Sample(x, generator);
        return Dequantized(x, generator);
    }

    /// <summary>Uniformly dequantised values when <see cref="Dequantize"/> is set (fresh draws from <paramref name="generator"/>), else <paramref name="x"/> itself.</summary>
    public Tensor Dequantized(Tensor x, Generator generator) => Dequantize ? PixelBins.Dequantize(x, Levels!.Value, generator) : x;
}
