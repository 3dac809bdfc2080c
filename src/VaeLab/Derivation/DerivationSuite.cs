using System.Diagnostics;
using VaeLab.Data;
using VaeLab.Data.Synthetic;
using VaeLab.Models;
using static TorchSharp.torch;

namespace VaeLab.Derivation;

/// <summary>
/// All seven checks of the ELBO derivation on the library's own code, in float64, as one table:
/// (1) exact on the linear-Gaussian VAE, (2) by quadrature on a trained 2-D latent VAE, (3) importance sampling and
/// the evaluator, (4) the cost terms and every likelihood, (5) the reparameterisation step, (6) the likelihoods of 8-bit
/// pixels (discretised masses, the dequantised bound), (7) the inference-gap tools (AIS, BDMC, the per-example q*).
/// </summary>
public static class DerivationSuite
{
    /// <summary>Runs every check on <paramref name="components"/> (the library's by default); <paramref name="progress"/> hears each check's name.</summary>
    public static DerivationReport Run(CheckedComponents? components = null, IProgress<string>? progress = null)
    {
        components ??= CheckedComponents.Library;
        var clock = Stopwatch.StartNew();
        var rows = new List<DerivationRow>();
        progress?.Report(LinearGaussianCheck.Name);
        rows.AddRange(LinearGaussianCheck.Run(components));
        progress?.Report(QuadratureCheck.Name);
        PosteriorGrid posterior;
        var gapRows = new List<DerivationRow>();
        using (var scope = NewDisposeScope())
        {
            VariationalAutoencoder model = QuadratureCheck.TrainPinwheelVae();
            using Dataset test = Pinwheel.Generate(16, 102);
            rows.AddRange(QuadratureCheck.Run(components, model, test.Examples));
            posterior = QuadratureCheck.PosteriorOnGrid(model, test.Examples[0]);
            // Check 7 runs here too, while check 2's trained model is at hand; its rows are listed last.
            progress?.Report(InferenceGapCheck.Name);
            gapRows.AddRange(InferenceGapCheck.Run(components, model, test.Examples));
        }
        progress?.Report(ImportanceSamplingCheck.Name);
        rows.AddRange(ImportanceSamplingCheck.Run(components, out BoundsSummary bounds));
        progress?.Report(CostTermsCheck.Name);
        rows.AddRange(CostTermsCheck.Run(components));
        progress?.Report(ReparameterisationCheck.Name);
        rows.AddRange(ReparameterisationCheck.Run());
        progress?.Report(DiscretizationCheck.Name);
        rows.AddRange(DiscretizationCheck.Run(components));
        rows.AddRange(gapRows);
        var (klAnalytic, klPoints) = KlConvergence.Run();
        return new DerivationReport(rows, clock.Elapsed, new DerivationFigures(klAnalytic, klPoints, bounds, posterior));
    }
}
