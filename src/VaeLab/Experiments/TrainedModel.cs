using VaeLab.Data;
using VaeLab.Models;
using VaeLab.Training;

namespace VaeLab.Experiments;

/// <summary>
/// A trained model loaded for evaluation, with what is needed to read its figures: where it came from and how its training
/// data was treated (binarised, dequantised). <see cref="Load"/> is the one call that opens a checkpoint or a run of a results
/// store; <c>vaelab gap</c>, the sweep report and the notebooks use it.
/// </summary>
/// <param name="Model">The model, in evaluation mode (the caller disposes it).</param>
/// <param name="Source">Where it came from, as a sentence ("checkpoint run.ckpt, epoch 10", "run d20-b1-s1-… of results/").</param>
/// <param name="Binarization">How its training data was binarised (evaluation treats test data the same way).</param>
/// <param name="Dequantization">How its training data was dequantised.</param>
/// <param name="Run">The results-store row, when it came from a store.</param>
public sealed record TrainedModel(VariationalAutoencoder Model, string Source, Binarization Binarization, Dequantization Dequantization, RunResult? Run = null)
{
    /// <summary>
    /// Loads the model of a checkpoint file (<paramref name="path"/>, no <paramref name="run"/>) or of run <paramref name="run"/>
    /// of the results store in folder <paramref name="path"/>.
    /// </summary>
    /// <exception cref="CheckpointException">The checkpoint is missing, corrupt, or holds no configuration.</exception>
    /// <exception cref="ArgumentException">The store has no finished run <paramref name="run"/>, or the run kept no model file.</exception>
    public static TrainedModel Load(string path, string? run = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (run is null)
        {
            if (Directory.Exists(path))
                throw new ArgumentException($"'{path}' is a folder: give a checkpoint file, or a results store with the id of one of its runs.", nameof(path));
            var (model, header) = Checkpoint.LoadModel(path);
            return new TrainedModel(model, $"checkpoint {path}, epoch {header.Epoch}", header.Options.Binarization, header.Options.Dequantization);
        }
        if (!Directory.Exists(path)) throw new ArgumentException($"No results store at '{path}' (the folder does not exist).", nameof(path));
        var store = new ResultStore(path);
        RunResult result = store.TryRead(run, out string? problem)
            ?? throw new ArgumentException(problem is null ? $"No finished run '{run}' in the results store '{path}'." : $"Result file '{store.RowPath(run)}': {problem}", nameof(run));
        VariationalAutoencoder stored = store.LoadModel(result)
            ?? throw new ArgumentException($"Run '{run}' in '{path}' kept no model file ({store.ModelPath(run)}).", nameof(run));
        TrainingOptions training = result.Config.Training();
        return new TrainedModel(stored, $"run {run} of {path}", training.Binarization, training.Dequantization, result);
    }

    /// <summary>How <paramref name="test"/> is treated for this model, as its training data was: what its figures mean.</summary>
    public PixelTreatment TreatmentOf(Dataset test) => PixelTreatment.Resolve(Model.Likelihood, test, Binarization, Dequantization);
}
