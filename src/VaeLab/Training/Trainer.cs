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
    readonly DataParallelStep? dataParallel;
    readonly TensorParallelStep? tensorParallel;

    /// <summary>Prepares training of <paramref name="model"/> (moved to <see cref="TorchRuntime.Device"/>).</summary>
    /// <param name="model">The model; its parameters are trained in place.</param>
    /// <param name="options">The settings (validated here).</param>
    /// <param name="config">The configuration the model was built from, stored in checkpoints (optional; data-parallel
    /// training builds its replicas from it).</param>
    /// <param name="shards">How many parts each batch is split into, each on its own thread with its own replica of the
    /// model (see <see cref="Shards"/>); null chooses: one per libtorch thread with at least 16 examples each, on CPU, for the
    /// β-ELBO and IWAE objectives, when <paramref name="config"/> is given. 1 trains as one model with libtorch's threads.</param>
    /// <param name="splitLayers">With more than one shard, whether a step may split the model's two large layers between the
    /// threads instead of the batch's examples (see <see cref="Parallelism"/>; batches up to 256); false always splits by examples.</param>
    /// <exception cref="ArgumentException">More than one shard asked for where the batch cannot be split that way.</exception>
    public Trainer(VariationalAutoencoder model, TrainingOptions options, VaeConfig? config = null, int? shards = null, bool splitLayers = true)
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
        int threads = torch.get_num_threads();
        ObjectiveOptions objective = options.ObjectiveOrDefault;
        int chosen = shards ?? DataParallelStep.ShardsFor(options.BatchSize, objective, Device, threads, config is not null);
        if (chosen < 1 || chosen > options.BatchSize)
            throw new ArgumentOutOfRangeException(nameof(shards), chosen, $"Between 1 and the batch size ({options.BatchSize}) shards.");
        if (chosen > 1)
        {
            if (Device.type != DeviceType.CPU) throw new ArgumentException($"Data-parallel training runs on CPU threads; the device is {Device}.", nameof(shards));
            if (!DataParallelStep.Splittable(objective))
                throw new ArgumentException($"The {objective.Kind} objective is not a mean over examples, so a batch cannot be split into shards; use one shard.", nameof(shards));
            // Splitting the layers moves a tenth of the data between the cores that splitting the examples does (and needs no
            // replicas); it covers the one-hidden-layer MLP with a Bernoulli likelihood and the β-ELBO, without clipping, up to
            // batches of 256 (above, the examples' split is faster).
            if (splitLayers && options.GradientClipNorm is null && options.BatchSize <= TensorParallelStep.LargestBatch)
                tensorParallel = TensorParallelStep.TryCreate(model, objective, optimizer, chosen, Math.Max(1, threads / chosen));
            if (tensorParallel is null)
            {
                if (config is null) throw new ArgumentException("Data-parallel training builds replicas of the model from its configuration: pass the VaeConfig.", nameof(config));
                try
                {
                    dataParallel = new DataParallelStep(model, config, optimizer, chosen, Math.Max(1, threads / chosen), Device);
                }
                catch (ArgumentException e) when (shards is null && e.ParamName == "config")
                {
                    // The configuration does not build this model (a part of the user's own): train it as one model.
                }
            }
        }
    }

    /// <summary>
    /// Parts each batch is split into (1: one model with libtorch's own threads). With several, shard s trains a replica on
    /// its rows with single-threaded kernels on its own thread and the gradients are added before the Adam step; its ε come
    /// from a generator seeded by the run's seed, the step and s, so a run is reproducible, and resumes exactly, for a given
    /// number of shards (which follows libtorch's thread count and is not stored in checkpoints). After a sharded step without
    /// gradient clipping the parameters' <c>.grad</c> hold shard 0's gradient, not the batch's. With the layers split
    /// (<see cref="Parallelism"/>) the threads share one ε stream and <c>.grad</c> holds the whole batch's gradient (without
    /// the weight-decay term, which one model's update adds to it in place); after a batch whose loss was not finite it holds
    /// a mixture of that batch's and the previous one's.
    /// </summary>
    public int Shards => tensorParallel?.Threads ?? dataParallel?.Shards ?? 1;

    /// <summary>
    /// How a step uses the cores: one model on libtorch's threads; the batch split by examples over replicas (see
    /// <see cref="Shards"/>); or the two large layers split by units between threads (<see cref="TrainingParallelism.SplitLayers"/>:
    /// the whole batch's gradient with one ε stream, seeded from the run's seed and the step, whatever the number of threads).
    /// </summary>
    public TrainingParallelism Parallelism =>
        tensorParallel is not null ? TrainingParallelism.SplitLayers : dataParallel is not null ? TrainingParallelism.SplitExamples : TrainingParallelism.OneModel;

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
        int libtorchThreads = torch.get_num_threads();
        try
        {
            for (int epoch = firstEpoch; epoch <= Options.Epochs; epoch++)
            {
                Model.train();
                dataParallel?.Train();
                // The calling thread is shard 0 of a data-parallel step: single-threaded kernels, as on the other shards' threads.
                if (dataParallel is not null) torch.set_num_threads(dataParallel.ThreadsPerShard);
                if (tensorParallel is not null) torch.set_num_threads(tensorParallel.ThreadsPerThread);
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
                        var (loss, reconstruction, kl) = tensorParallel is not null ? LayerSplitStep(objective, x, epoch, batchNumber)
                            : dataParallel is not null ? ShardedStep(objective, x, epoch, batchNumber)
                            : SingleModelStep(objective, x, epoch, batchNumber);
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
                torch.set_num_threads(libtorchThreads);
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
        }
        finally
        {
            torch.set_num_threads(libtorchThreads);
        }
        return history;
    }

    // One model on the whole batch with libtorch's threads: the batch's mean loss and its summed ELBO terms, nats.
    (double Loss, double Reconstruction, double Kl) SingleModelStep(ObjectiveOptions objective, Tensor x, int epoch, int batchNumber)
    {
        optimizer.ZeroGrad();
        ObjectiveValue value = TrainingObjective.Evaluate(objective, Model, x, Step, generator);
        double loss = value.Loss.item<float>();
        double reconstruction = value.Terms.ReconstructionLogLikelihoodNats.sum().item<float>();
        double kl = value.Terms.KlNats.sum().item<float>();
        if (!double.IsFinite(loss) || !double.IsFinite(reconstruction) || !double.IsFinite(kl))
            throw new NonFiniteValueException(epoch, batchNumber, Diagnose(Model, value));
        value.Loss.backward();
        CheckGradients(epoch, batchNumber, Options.GradientClipNorm is double clip ? optimizer.ClipGradientNorm(clip) : optimizer.GradientNorm());
        optimizer.Step();
        return (loss, reconstruction, kl);
    }

    // The same split over the shards' threads: forward and backward per shard, the weighted gradient sum, the update in parts.
    (double Loss, double Reconstruction, double Kl) ShardedStep(ObjectiveOptions objective, Tensor x, int epoch, int batchNumber)
    {
        IReadOnlyList<ShardOutcome> outcomes = dataParallel!.ForwardBackward(objective, x, Step, Options.Seed);
        foreach (ShardOutcome outcome in outcomes)
            if (outcome.NonFinite is string what) throw new NonFiniteValueException(epoch, batchNumber, what);
        int total = outcomes.Sum(o => o.Examples);
        double loss = outcomes.Sum(o => o.Loss * o.Examples / total);
        if (Options.GradientClipNorm is double clip)
        {
            double norm = dataParallel.ReduceGradients();
            if (double.IsFinite(norm) && norm > clip) optimizer.ScaleGradients(clip / (norm + 1e-6));
            CheckGradients(epoch, batchNumber, norm);
            dataParallel.Step();
        }
        else if (!dataParallel.StepWithShardGradients())
        {
            // No norm is needed without clipping: the update forms the gradient on the fly and refuses a non-finite one.
            // Name where it came from (a NaN on the way stopped the update before anything non-finite was written).
            CheckGradients(epoch, batchNumber, dataParallel.ReduceGradients());
        }
        return (loss, outcomes.Sum(o => o.ReconstructionSum), outcomes.Sum(o => o.KlSum));
    }

    // The two large layers split between the threads: loss, gradient and update in one pass over them.
    (double Loss, double Reconstruction, double Kl) LayerSplitStep(ObjectiveOptions objective, Tensor x, int epoch, int batchNumber)
    {
        long seed = unchecked((long)DataParallelStep.ShardSeed(Options.Seed, Step, 0));
        TensorParallelOutcome outcome = tensorParallel!.Run(x, objective.BetaAt(Step), seed);
        if (!outcome.LossFinite)
        {
            // Nothing was updated: evaluate the batch again with autograd and the same ε, to say what went wrong.
            using var same = new Generator(0);
            same.manual_seed(seed);
            using ObjectiveValue value = TrainingObjective.Evaluate(objective, Model, x, Step, same);
            throw new NonFiniteValueException(epoch, batchNumber, Diagnose(Model, value));
        }
        if (!outcome.Updated)
        {
            // A part of the gradient held a NaN or ±∞ (parts before it were updated, with finite values): name the parameter.
            CheckGradients(epoch, batchNumber, optimizer.GradientNorm());
            throw new NonFiniteValueException(epoch, batchNumber, "the gradient");
        }
        return (outcome.Loss, outcome.ReconstructionSum, outcome.KlSum);
    }

    /// <summary>Names the first non-finite quantity of a batch's evaluation (for <see cref="NonFiniteValueException"/>).</summary>
    internal static string Diagnose(VariationalAutoencoder model, ObjectiveValue value)
    {
        static bool Bad(Tensor t) { using var finite = t.isfinite().all(); return !finite.item<bool>(); }
        if (Bad(value.Terms.Mean)) return "the encoder mean μ";
        if (Bad(value.Terms.LogVariance)) return "the encoder log σ² (log-variance)";
        foreach (var (name, parameter) in model.Likelihood.named_parameters())
            if (Bad(parameter)) return $"the likelihood's learned log scale (parameter {name})";
        if (Bad(value.Terms.KlNats)) return "KL(q(z|x) ‖ p(z)) (nats)";
        if (Bad(value.Terms.ReconstructionLogLikelihoodNats)) return "the reconstruction log-likelihood E_q[log p(x|z)] (nats)";
        return "the loss";
    }

    // A non-finite gradient norm stops training, naming the first parameter whose gradient is not finite.
    void CheckGradients(int epoch, int batch, double norm)
    {
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
        dataParallel?.Dispose();
        tensorParallel?.Dispose();
        optimizer.Dispose();
        generator.Dispose();
    }
}
