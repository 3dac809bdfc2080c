using System.Diagnostics;
using VaeLab.Data;
using VaeLab.Data.Synthetic;
using VaeLab.Models;
using static TorchSharp.torch;

namespace VaeLab.Derivation;

/// <summary>
/// All nine checks of the ELBO derivation and of the figures built on it, on the library's own code, in float64, as one table:
/// (1) exact on the linear-Gaussian VAE, (2) by quadrature on a trained 2-D latent VAE, (3) importance sampling and
/// the evaluator, (4) the cost terms and every likelihood, (5) the reparameterisation step, (6) the likelihoods of 8-bit
/// pixels (discretised masses, the dequantised bound), (7) the inference-gap tools (AIS, BDMC, the per-example q*), (8) every
/// figure the evaluator reports on every data path against exact answers, (9) the estimators' insides (chains, standard errors,
/// BDMC's data, the gap's arithmetic).
/// </summary>
public static class DerivationSuite
{
    /// <summary>The number of checks, 1 to 9.</summary>
    public const int CheckCount = 9;

    /// <summary>
    /// Runs every check (or those numbered in <paramref name="only"/>) on <paramref name="components"/> (the library's by default);
    /// <paramref name="progress"/> hears each check's name. The derivation figures come with a full run only.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A check number outside 1 … 9.</exception>
    public static DerivationReport Run(CheckedComponents? components = null, IProgress<string>? progress = null, IReadOnlyCollection<int>? only = null)
    {
        components ??= CheckedComponents.Library;
        if (only?.Where(n => n is < 1 or > CheckCount).Select(n => (int?)n).FirstOrDefault() is int bad)
            throw new ArgumentOutOfRangeException(nameof(only), bad, $"Checks are numbered 1 to {CheckCount}.");
        bool Runs(int number) => only is null || only.Count == 0 || only.Contains(number);
        var clock = Stopwatch.StartNew();
        var rows = new List<DerivationRow>();
        if (Runs(1))
        {
            progress?.Report(LinearGaussianCheck.Name);
            rows.AddRange(LinearGaussianCheck.Run(components));
        }
        PosteriorGrid? posterior = null;
        var gapRows = new List<DerivationRow>();
        if (Runs(2) || Runs(7))
        {
            using var scope = NewDisposeScope();
            VariationalAutoencoder? model = null;
            string? trainingFailure = null;
            try
            {
                model = QuadratureCheck.TrainPinwheelVae();
            }
            catch (VaeLab.Training.NonFiniteValueException e)
            {
                // Training runs the library's Trainer and Adam: a wrong update there shows as a failed row, not a crash.
                trainingFailure = e.Message;
            }
            if (trainingFailure is not null)
                rows.Add(new DerivationRow(QuadratureCheck.Name, "the 2-D latent VAE of checks 2 and 7 trains (the library's Trainer and Adam on the pinwheel)",
                    double.NaN, double.NaN, double.NaN, 0, trainingFailure, false));
            using Dataset test = Pinwheel.Generate(16, 102);
            if (Runs(2) && model is not null)
            {
                progress?.Report(QuadratureCheck.Name);
                rows.AddRange(QuadratureCheck.Run(components, model, test.Examples));
                posterior = QuadratureCheck.PosteriorOnGrid(model, test.Examples[0]);
            }
            if (Runs(7))
            {
                // Check 7 runs here, while check 2's trained model is at hand; its rows are listed last.
                progress?.Report(InferenceGapCheck.Name);
                gapRows.AddRange(InferenceGapCheck.Run(components, model, model is null ? null : test.Examples));
            }
        }
        BoundsSummary? bounds = null;
        if (Runs(3))
        {
            progress?.Report(ImportanceSamplingCheck.Name);
            rows.AddRange(ImportanceSamplingCheck.Run(components, out BoundsSummary summary));
            bounds = summary;
        }
        if (Runs(4))
        {
            progress?.Report(CostTermsCheck.Name);
            rows.AddRange(CostTermsCheck.Run(components));
        }
        if (Runs(5))
        {
            progress?.Report(ReparameterisationCheck.Name);
            rows.AddRange(ReparameterisationCheck.Run());
            rows.AddRange(TrainingGradientRows.Run());
        }
        if (Runs(6))
        {
            progress?.Report(DiscretizationCheck.Name);
            rows.AddRange(DiscretizationCheck.Run(components));
        }
        rows.AddRange(gapRows);
        if (Runs(8))
        {
            progress?.Report(ReportedFiguresCheck.Name);
            rows.AddRange(ReportedFiguresCheck.Run(components));
        }
        if (Runs(9))
        {
            progress?.Report(EstimatorInternalsCheck.Name);
            rows.AddRange(EstimatorInternalsCheck.Run(components));
        }
        DerivationFigures? figures = null;
        if (posterior is not null && bounds is not null)
        {
            var (klAnalytic, klPoints) = KlConvergence.Run();
            figures = new DerivationFigures(klAnalytic, klPoints, bounds, posterior);
        }
        return new DerivationReport(rows, clock.Elapsed, figures);
    }
}
