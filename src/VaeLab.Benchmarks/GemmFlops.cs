using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VaeLab.Benchmarks;

/// <summary>
/// Matrix-product floating-point operations of training a model made of linear layers, per example: the
/// figure a training run's GFLOP/s is computed from. Forward 2·in·out per layer; backward 2·in·out for the
/// weight gradient and 2·in·out for the input gradient, except for encoder layers that read the data
/// itself, whose input needs no gradient. A posterior family's own weight matrices (an IAF's masked MADE layers) count the same
/// way, as the dense products that run (the masks zero about half of each). Element-wise work (activations, likelihood, KL,
/// planar layers, Adam) is not counted, as usual.
/// </summary>
public static class GemmFlops
{
    /// <summary>Training FLOPs per example of the VAE's linear layers.</summary>
    /// <exception cref="ArgumentException">The model holds no linear layer, or convolutions (not counted here).</exception>
    public static double TrainingPerExample(VaeLab.Models.VariationalAutoencoder model)
    {
        var modules = model.modules().ToArray();
        if (modules.Any(m => m is Conv2d or ConvTranspose2d))
            throw new ArgumentException("Only linear layers are counted; this model has convolutions.", nameof(model));
        Linear[] linears = modules.OfType<Linear>().ToArray();
        if (linears.Length == 0) throw new ArgumentException("The model has no linear layer.", nameof(model));
        double total = 0;
        var readsData = model.Encoder.modules().OfType<Linear>().Where(l => l.in_features == model.InputDimensions).ToHashSet();
        foreach (Linear linear in linears)
        {
            double macs = (double)linear.in_features * linear.out_features;
            total += 2 * macs                                // forward
                   + 2 * macs                                // weight gradient
                   + (readsData.Contains(linear) ? 0 : 2 * macs); // input gradient
        }
        // A flow's weight matrices multiply latent and context rows that need gradients: forward, weight and input gradient.
        foreach (var weight in model.Posterior.parameters().Where(p => p.dim() == 2))
            total += 6.0 * weight.numel();
        return total;
    }

    /// <summary>
    /// Matrix-product FLOPs of one decoder pass forward and back to z (no weight gradients), per row: what every leapfrog step
    /// of AIS and every sample of a q* step costs. 2·in·out forward and 2·in·out for the input gradient per decoder layer.
    /// </summary>
    /// <exception cref="ArgumentException">The decoder holds no linear layer, or convolutions.</exception>
    public static double DecoderGradientPerRow(VaeLab.Models.VariationalAutoencoder model)
    {
        var modules = model.Decoder.modules().ToArray();
        if (modules.Any(m => m is Conv2d or ConvTranspose2d))
            throw new ArgumentException("Only linear layers are counted; this decoder has convolutions.", nameof(model));
        Linear[] linears = modules.OfType<Linear>().ToArray();
        if (linears.Length == 0) throw new ArgumentException("The decoder has no linear layer.", nameof(model));
        return linears.Sum(l => 4.0 * l.in_features * l.out_features);
    }

    /// <summary>
    /// Matrix-product FLOPs of importance-sampled log p(x) with k samples, per example: one encoder pass and k decoder passes,
    /// 2·in·out per linear layer each (no gradients).
    /// </summary>
    /// <exception cref="ArgumentException">The model holds no linear layer, or convolutions.</exception>
    public static double ImportanceSampledPerExample(VaeLab.Models.VariationalAutoencoder model, int samples)
    {
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, "At least one sample.");
        if (model.modules().Any(m => m is Conv2d or ConvTranspose2d))
            throw new ArgumentException("Only linear layers are counted; this model has convolutions.", nameof(model));
        double encoder = model.Encoder.modules().OfType<Linear>().Sum(l => 2.0 * l.in_features * l.out_features);
        double decoder = model.Decoder.modules().OfType<Linear>().Sum(l => 2.0 * l.in_features * l.out_features);
        if (encoder + decoder == 0) throw new ArgumentException("The model has no linear layer.", nameof(model));
        return encoder + samples * decoder;
    }
}
