using VaeLab.Data;
using VaeLab.Data.Synthetic;
using VaeLab.Models;
using static TorchSharp.torch;

namespace VaeLab.Derivation;

/// <summary>
/// What the checks of one run share: the components under test, the 2-D latent VAE that checks 2 and 7 both use (trained once,
/// on first use), and what the derivation's figures are drawn from. Disposing frees the trained model.
/// </summary>
public sealed class CheckContext : IDisposable
{
    VariationalAutoencoder? pinwheel;
    Dataset? pinwheelTest;
    string? trainingFailure;
    bool trained;

    /// <summary>A context for checking <paramref name="components"/> (the library's by default).</summary>
    public CheckContext(CheckedComponents? components = null) => Components = components ?? CheckedComponents.Library;

    /// <summary>The components under test: the model passes through them.</summary>
    public CheckedComponents Components { get; }

    /// <summary>
    /// The trained pinwheel VAE of checks 2 and 7 and 16 test points, or the reason training failed (the library's Trainer and
    /// Adam train it: a wrong update shows as a failed row, not a crash). The first call trains it: make it outside any dispose
    /// scope that ends before the context does.
    /// </summary>
    public (VariationalAutoencoder? Model, Tensor TestExamples, string? TrainingFailure) Pinwheel()
    {
        if (!trained)
        {
            trained = true;
            try
            {
                pinwheel = QuadratureCheck.TrainPinwheelVae();
            }
            catch (VaeLab.Training.NonFiniteValueException e)
            {
                trainingFailure = e.Message;
            }
            pinwheelTest = VaeLab.Data.Synthetic.Pinwheel.Generate(16, 102);
        }
        return (pinwheel, pinwheelTest!.Examples, trainingFailure);
    }

    /// <summary>The row that says the pinwheel VAE did not train (checks 2 and 7 report it in place of rows that need the model).</summary>
    internal DerivationRow TrainingFailureRow(string check) =>
        new(check, "the 2-D latent VAE of checks 2 and 7 trains (the library's Trainer and Adam on the pinwheel)", double.NaN, double.NaN, double.NaN, 0, trainingFailure!, false);

    /// <summary>p(z|x) and q(z|x) on a grid, for the figures (set by check 2).</summary>
    public PosteriorGrid? Posterior { get; internal set; }

    /// <summary>ELBO, IWAE_k and log p(x) of the linear-Gaussian model, for the figures (set by check 3).</summary>
    public BoundsSummary? Bounds { get; internal set; }

    /// <summary>Frees the trained model and its test points.</summary>
    public void Dispose()
    {
        pinwheel?.Dispose();
        pinwheelTest?.Dispose();
    }
}
