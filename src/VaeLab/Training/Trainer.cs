using System.Diagnostics;
using System.Reflection;
using TorchSharp;
using TorchSharp.Modules;
using VaeLab.Data;
using VaeLab.Evaluation;
using VaeLab.Models;
using VaeLab.Objectives;
using VaeLab.Runtime;
using static TorchSharp.torch;

namespace VaeLab.Training;

/// <summary>
/// Trains a VAE with Adam: a fresh epoch order from the run's generator, one dispose scope per batch (memory
/// stays flat), a guard that stops on the first non-finite loss term or gradient, a checkpoint after every
/// epoch, and exact resume (same seed, same machine: the same metrics as an uninterrupted run).
/// </summary>
public sealed class Trainer : IDisposable
{
    readonly FlatAdam optimizer;
    readonly Generator generator;
    readonly List<EpochMetrics> history = new();
    readonly Parameter[] parameters;
    readonly string[] parameterNames;

    /// <summary>Prepares training of <paramref name="model"/> (moved to <see cref="TorchRuntime.Device"/>).</summary>
    /// <param name="model">The model; its parameters are trained in place.</param>
    /// <param name="options">The settings (validated here).</param>
    /// <param name="config">The configuration the model was built from, stored in checkpoints (optional).</param>
    public Trainer(VariationalAutoencoder model, TrainingOptions options, VaeConfig? config = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Model = model;
        Options = options;
        Config = config;
        Device = TorchRuntime.Device;
        model.to(Device);
        var named = model.named_parameters().ToArray();
        parameters = named.Select(p => p.parameter).ToArray();
        parameterNames = named.Select(p => p.name).ToArray();
        optimizer = new FlatAdam(parameters, options.LearningRate, weightDecay: options.WeightDecay);
        generator = new Generator((ulong)options.Seed);
    }

    /// <summary>The model being trained.</summary>
    public VariationalAutoencoder Model { get; }

    /// <summary>The training settings.</summary>
    public TrainingOptions Options { get; private set; }

    /// <summary>The configuration the model was built from, if known.</summary>
    public VaeConfig? Config { get; }

    /// <summary>The device training runs on.</summary>
    public Device Device { get; }

    /// <summary>Epochs completed so far (including those of a checkpoint resumed from).</summary>
    public int EpochsDone { get; private set; }

    /// <summary>Optimiser steps taken so far.</summary>
    public long Step { get; private set; }

    /// <summary>How the training data is treated and what the reported figures mean (set by <see cref="Fit"/>).</summary>
    public PixelTreatment? Treatment { get; private set; }

    /// <summary>Metrics of every completed epoch.</summary>
    public IReadOnlyList<EpochMetrics> History => history;

    /// <summary>
    /// Continues from a checkpoint: loads parameters, optimiser state, generator state, epoch, step and history.
    /// The options must match the checkpoint's except <see cref="TrainingOptions.Epochs"/> and the checkpoint path.
    /// </summary>
    /// <exception cref="CheckpointException">Corrupt, of another architecture, or written with other options.</exception>
    public void Resume(string checkpointPath)
    {
        CheckpointHeader header = Checkpoint.ReadHeader(checkpointPath);
        TrainingOptions mine = Options with { Epochs = 0, CheckpointPath = null };
        TrainingOptions theirs = header.Options with { Epochs = 0, CheckpointPath = null };
        if (mine != theirs)
            throw new CheckpointException(checkpointPath,
                $"it was written with other training options; resuming would not continue the same run.\n  checkpoint: {theirs}\n  now:        {mine}");
        header = Checkpoint.Load(checkpointPath, Model, optimizer, generator);
        EpochsDone = header.Epoch;
        Step = header.Step;
        history.Clear();
        history.AddRange(header.History);
    }

    /// <summary>Writes a checkpoint of the current state to <paramref name="path"/> (atomically).</summary>
    public void SaveCheckpoint(string path) =>
        Checkpoint.Save(path, new CheckpointHeader(Checkpoint.FormatVersion, Model.Signature, EpochsDone, Step, Options, history.ToArray(), Config, VaeLabVersion), Model, optimizer, generator);

    /// <summary>
    /// Trains from the next epoch up to <see cref="TrainingOptions.Epochs"/>, validating on <paramref name="validation"/>
    /// after each epoch when given, and checkpointing when <see cref="TrainingOptions.CheckpointPath"/> is set.
    /// </summary>
    /// <returns>The metrics of all completed epochs.</returns>
    /// <exception cref="NonFiniteValueException">A loss term or gradient became NaN or ±∞.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (between batches; completed epochs stay checkpointed).</exception>
    public IReadOnlyList<EpochMetrics> Fit(Dataset train, Dataset? validation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (!train.ExampleShape.SequenceEqual(Model.InputShape))
            throw new ArgumentException($"Training data '{train.Name}' has examples of shape [{string.Join("×", train.ExampleShape)}], the model takes [{string.Join("×", Model.InputShape)}].", nameof(train));
        ObjectiveOptions objective = Options.ObjectiveOrDefault;
        // Refuses meaningless pairings (a density on raw 8-bit pixels) before any work; says how every figure is to be read.
        PixelTreatment treatment = PixelTreatment.Resolve(Model.Likelihood, train, Options.Binarization, Options.Dequantization);
        Treatment = treatment;
        double jacobian = treatment.LogJacobianNats(train.Dimension);
        using var sampler = new BatchSampler(train, Options.BatchSize, generator, Options.Binarization);
        var runClock = Stopwatch.StartNew();
        int firstEpoch = EpochsDone + 1;
        for (int epoch = firstEpoch; epoch <= Options.Epochs; epoch++)
        {
            Model.train();
            var clock = Stopwatch.StartNew();
            double lossSum = 0, elboSum = 0, reconstructionSum = 0, klSum = 0;
            long examples = 0;
            int batchNumber = 0;
            foreach (Batch batch in sampler.NextEpoch())
            {
                cancellation.ThrowIfCancellationRequested();
                batchNumber++;
                using var scope = NewDisposeScope();
                using (batch)
                {
                    Tensor x = treatment.Dequantized(batch.Examples.device == Device ? batch.Examples : batch.Examples.to(Device), generator);
                    optimizer.ZeroGrad();
                    ObjectiveValue value = TrainingObjective.Evaluate(objective, Model, x, Step, generator);
                    double loss = value.Loss.item<float>();
                    double reconstruction = value.Terms.ReconstructionLogLikelihoodNats.sum().item<float>();
                    double kl = value.Terms.KlNats.sum().item<float>();
                    if (!double.IsFinite(loss) || !double.IsFinite(reconstruction) || !double.IsFinite(kl))
                        throw new NonFiniteValueException(epoch, batchNumber, Diagnose(value));
                    value.Loss.backward();
                    CheckGradients(epoch, batchNumber);
                    optimizer.Step();
                    Step++;
                    int n = batch.Count;
                    examples += n;
                    lossSum += (loss + jacobian) * n;   // the objective on the discrete image (a bound) when dequantised
                    reconstructionSum += reconstruction - jacobian * n;   // of the discrete image (a bound) when dequantised
                    klSum += kl;
                    elboSum += reconstruction - jacobian * n - kl;
                }
                if (progress is not null)
                {
                    double seconds = clock.Elapsed.TotalSeconds;
                    double rate = examples / Math.Max(seconds, 1e-9);
                    long remaining = (long)(sampler.BatchesPerEpoch - batchNumber) * Options.BatchSize
                                     + (long)(Options.Epochs - epoch) * sampler.ExamplesPerEpoch;
                    progress.Report(new TrainingProgress(epoch, Options.Epochs, batchNumber, sampler.BatchesPerEpoch,
                        lossSum / examples, rate, TimeSpan.FromSeconds(remaining / Math.Max(rate, 1e-9))));
                }
            }
            double trainSeconds = clock.Elapsed.TotalSeconds;
            (double elbo, double reconstruction, double kl) validationMetrics = (double.NaN, double.NaN, double.NaN);
            if (validation is not null)
            {
                // The evaluator's test ELBO, on a generator of its own seeded from the run seed and the epoch: validation never shifts the training stream.
                ElboSummary summary = Evaluator.TestElbo(Model, validation, Options.Seed * 1_000_003 + epoch, Options.BatchSize,
                    treatment: PixelTreatment.Resolve(Model.Likelihood, validation, Options.Binarization, Options.Dequantization));
                validationMetrics = (summary.ElboNats, summary.ReconstructionLogLikelihoodNats, summary.KlNats);
            }
            EpochsDone = epoch;
            history.Add(new EpochMetrics(epoch, Step, lossSum / examples, elboSum / examples, reconstructionSum / examples, klSum / examples,
                validationMetrics.elbo, validationMetrics.reconstruction, validationMetrics.kl,
                objective.BetaAt(Math.Max(Step - 1, 0)), trainSeconds, examples / Math.Max(trainSeconds, 1e-9)));
            if (Options.CheckpointPath is not null)
                SaveCheckpoint(Options.CheckpointPath);
        }
        return history;
    }

    string Diagnose(ObjectiveValue value)
    {
        static bool Bad(Tensor t) { using var finite = t.isfinite().all(); return !finite.item<bool>(); }
        if (Bad(value.Terms.Mean)) return "the encoder mean μ";
        if (Bad(value.Terms.LogVariance)) return "the encoder log σ² (log-variance)";
        foreach (var (name, parameter) in Model.Likelihood.named_parameters())
            if (Bad(parameter)) return $"the likelihood's learned log scale (parameter {name})";
        if (Bad(value.Terms.KlNats)) return "KL(q(z|x) ‖ p(z)) (nats)";
        if (Bad(value.Terms.ReconstructionLogLikelihoodNats)) return "the reconstruction log-likelihood E_q[log p(x|z)] (nats)";
        return "the loss";
    }

    void CheckGradients(int epoch, int batch)
    {
        double norm = Options.GradientClipNorm is double clip ? optimizer.ClipGradientNorm(clip) : optimizer.GradientNorm();
        if (double.IsFinite(norm)) return;
        for (int i = 0; i < parameters.Length; i++)
        {
            Tensor? grad = parameters[i].grad;
            if (grad is null) continue;
            using var finite = grad.isfinite().all();
            if (!finite.item<bool>()) throw new NonFiniteValueException(epoch, batch, $"the gradient of {parameterNames[i]}");
        }
        throw new NonFiniteValueException(epoch, batch, "the gradient norm");
    }

    static string VaeLabVersion => typeof(Trainer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";

    /// <summary>Frees the optimiser and the generator (not the model).</summary>
    public void Dispose()
    {
        optimizer.Dispose();
        generator.Dispose();
    }
}
