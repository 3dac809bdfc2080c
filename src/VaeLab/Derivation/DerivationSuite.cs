using System.Diagnostics;
using VaeLab.Data;
using VaeLab.Data.Synthetic;
using VaeLab.Models;
using static TorchSharp.torch;

namespace VaeLab.Derivation;

/// <summary>
/// All five checks of the ELBO derivation with their default settings, in float64, as one table:
/// (1) exact on the linear-Gaussian model, (2) by quadrature on a trained 2-D latent VAE, (3) by importance
/// sampling, (4) the cost terms, (5) the reparameterisation step.
/// </summary>
public static class DerivationSuite
{
    /// <summary>Runs every check; <paramref name="formulas"/> defaults to VaeLab's own; <paramref name="progress"/> hears each check's name.</summary>
    public static DerivationReport Run(DerivationFormulas? formulas = null, IProgress<string>? progress = null)
    {
        formulas ??= DerivationFormulas.Library;
        var clock = Stopwatch.StartNew();
        var rows = new List<DerivationRow>();
        progress?.Report(LinearGaussianCheck.Name);
        rows.AddRange(LinearGaussianCheck.Run(formulas));
        progress?.Report(QuadratureCheck.Name);
        PosteriorGrid posterior;
        using (var scope = NewDisposeScope())
        {
            VariationalAutoencoder model = QuadratureCheck.TrainPinwheelVae();
            using Dataset test = Pinwheel.Generate(16, 102);
            rows.AddRange(QuadratureCheck.Run(formulas, model, test.Examples));
            posterior = QuadratureCheck.PosteriorOnGrid(model, test.Examples[0]);
        }
        progress?.Report(ImportanceSamplingCheck.Name);
        rows.AddRange(ImportanceSamplingCheck.Run(formulas, out BoundsSummary bounds));
        progress?.Report(CostTermsCheck.Name);
        rows.AddRange(CostTermsCheck.Run(formulas));
        progress?.Report(ReparameterisationCheck.Name);
        rows.AddRange(ReparameterisationCheck.Run(formulas));
        var (klAnalytic, klPoints) = KlConvergence.Run(formulas);
        return new DerivationReport(rows, clock.Elapsed, new DerivationFigures(klAnalytic, klPoints, bounds, posterior));
    }
}
