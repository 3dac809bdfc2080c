using System.Diagnostics;
using System.Reflection;
using TorchSharp;
using TorchSharp.Modules;
using VaeLab.Data;
using VaeLab.Evaluation;
using VaeLab.Models;
using VaeLab.Objectives;
using VaeLab.Optimization;
using VaeLab.Runtime;
using VaeLab.Training.Steps;
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
    ITrainingStep step;

    /// <summary>
    /// Prepares training of <paramref name="model"/> (moved to <see cref="TorchRuntime.Device"/>) and chooses how its steps run
    /// (<see cref="TrainingOptions.Parallelism"/>; <see cref="Strategy"/> says which and why).
    /// </summary>
    /// <param name="model">The model; its parameters are trained in place. A model built by <see cref="VaeConfig.Build"/> carries
    /// its configuration, which checkpoints store and the examples' split builds replicas from.</param>
    /// <param name="options">The settings (validated here).</param>
    /// <exception cref="ArgumentException">The strategy asked for cannot train this model (the message says why).</exception>
    public Trainer(VariationalAutoencoder model, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Model = model;
        Options = options;
        Device = TorchRuntime.Device;
        model.to(Device);
        optimizer = new FlatAdam(model.parameters(), options.LearningRate, weightDecay: options.WeightDecay);
        generator = new Generator((ulong)options.Seed);
        int threads = options.Threads ?? torch.get_num_threads();
        try
        {
            TrainingStrategy strategy = StepSelector.Choose(model, options, optimizer, threads);
            step = StepSelector.Create(new StepSetup(model, optimizer, options.ObjectiveOrDefault, options, generator), strategy, threads);
        }
        catch
        {
            optimizer.Dispose();
            generator.Dispose();
            throw;
        }
    }

    /// <summary>
    /// How the steps run: the strategy (never Auto), its threads and why it was chosen. <see cref="TrainingParallelism.OneModel"/>
    /// is autograd's step on one model; <see cref="TrainingParallelism.SplitExamples"/> trains a replica per thread on its rows
    /// with ε from a generator seeded by the run's seed, the step and the shard, so a run repeats, and resumes exactly, for a
    /// given number of threads (after a split step without clipping the parameters' <c>.grad</c> hold shard 0's gradient);
    /// <see cref="TrainingParallelism.SplitLayers"/> shares one ε stream between the threads, seeded from the run's seed and
    /// the step, whatever their number, and <c>.grad</c> holds the whole batch's gradient (without the weight-decay term).
    /// Epoch metrics and checkpoints record it.
    /// </summary>
    public TrainingStrategy Strategy => step.Strategy;

    /// <summary>The strategy that runs (<see cref="Strategy"/>'s).</summary>
    public TrainingParallelism Parallelism => step.Strategy.Parallelism;

    /// <summary>The model being trained.</summary>
    public VariationalAutoencoder Model { get; }

    /// <summary>The training settings.</summary>
    public TrainingOptions Options { get; private set; }

    /// <summary>The configuration the model was built from, if it was (<see cref="VariationalAutoencoder.Config"/>).</summary>
    public VaeConfig? Config => Model.Config;

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
    /// The options must match the checkpoint's except <see cref="TrainingOptions.Epochs"/> and how steps run. A run continues
    /// exactly only with the strategy and threads it ran with (they decide its ε streams), so with
    /// <see cref="TrainingParallelism.Auto"/> the trainer takes the checkpoint's strategy and threads (<see cref="Strategy"/>
    /// says so), and a strategy or thread count asked for explicitly must be the checkpoint's.
    /// </summary>
    /// <exception cref="CheckpointException">Corrupt, of another architecture, written with other options, or with another
    /// strategy than the one asked for.</exception>
    public void Resume(string checkpointPath)
    {
        CheckpointHeader header = Checkpoint.ReadHeader(checkpointPath);
        TrainingOptions mine = Options.WhatTheRunIs();
        TrainingOptions theirs = header.Options.WhatTheRunIs();
        if (mine != theirs)
            throw new CheckpointException(checkpointPath,
                $"it was written with other training options; resuming would not continue the same run.\n  checkpoint: {theirs}\n  now:        {mine}");
        if (header.Strategy is TrainingStrategy recorded && (recorded.Parallelism, recorded.Threads) != (Strategy.Parallelism, Strategy.Threads))
            ContinueWith(recorded, checkpointPath);
        header = Checkpoint.Load(checkpointPath, Model, optimizer, generator);
        EpochsDone = header.Epoch;
        Step = header.Step;
        history.Clear();
        history.AddRange(header.History);
    }

    // The checkpoint's run used another strategy or thread count: take it where Auto chose, refuse where the options asked.
    void ContinueWith(TrainingStrategy recorded, string checkpointPath)
    {
        bool asked = Options.Parallelism != TrainingParallelism.Auto || Options.Threads is not null;
        if (asked)
            throw new CheckpointException(checkpointPath,
                $"its run trained with {recorded.Parallelism} on {recorded.Threads} thread(s), these options ask for {Strategy.Parallelism} on {Strategy.Threads}: " +
                $"the run would continue with other ε. Ask for Parallelism = {recorded.Parallelism}, Threads = {recorded.Threads} (or Auto) to continue it exactly.");
        TrainingOptions same = Options with { Parallelism = recorded.Parallelism, Threads = recorded.Threads };
        TrainingStrategy strategy;
        try
        {
            strategy = StepSelector.Choose(Model, same, optimizer, recorded.Threads);
        }
        catch (ArgumentException e)
        {
            throw new CheckpointException(checkpointPath, $"its run trained with {recorded.Parallelism} on {recorded.Threads} thread(s), which cannot run here: {e.Message}", e);
        }
        step.Dispose();
        step = StepSelector.Create(new StepSetup(Model, optimizer, same.ObjectiveOrDefault, same, generator),
            strategy with { Reason = $"resumed as the checkpoint's run trained ({Strategy.Reason.Split(':')[0]} would have chosen {Strategy.Parallelism} on {Strategy.Threads})" },
            recorded.Threads);
    }

    /// <summary>Writes a checkpoint of the current state to <paramref name="path"/> (atomically).</summary>
    public void SaveCheckpoint(string path) =>
        Checkpoint.Save(path, new CheckpointHeader(Checkpoint.FormatVersion, Model.Signature, EpochsDone, Step, Options, history.ToArray(), Config, VaeLabVersion, Strategy), Model, optimizer, generator);

    /// <summary>
    /// Trains from the next epoch up to <see cref="TrainingOptions.Epochs"/>, validating on <paramref name="validation"/>
    /// after each epoch when given, and writing a checkpoint to <paramref name="checkpointPath"/> after each epoch when given.
    /// </summary>
    /// <param name="train">The training data.</param>
    /// <param name="validation">Data for the test ELBO after each epoch (optional).</param>
    /// <param name="progress">Receives progress after each batch (optional).</param>
    /// <param name="cancellation">Stops between batches; completed epochs stay checkpointed.</param>
    /// <param name="checkpointPath">The checkpoint file, written atomically after every epoch (null: none).</param>
    /// <returns>The metrics of all completed epochs.</returns>
    /// <exception cref="NonFiniteValueException">A loss term or gradient became NaN or ±∞.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (between batches; completed epochs stay checkpointed).</exception>
    public IReadOnlyList<EpochMetrics> Fit(Dataset train, Dataset? validation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default, string? checkpointPath = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0) throw new ArgumentException($"Training data '{train.Name}' ({train.Origin}) is empty: there is nothing to train on.", nameof(train));
        if (validation is { Count: 0 }) throw new ArgumentException($"Validation data '{validation.Name}' ({validation.Origin}) is empty: its ELBO would be NaN.", nameof(validation));
        if (!train.ExampleShape.SequenceEqual(Model.InputShape))
            throw new ArgumentException($"Training data '{train.Name}' ({train.Origin}) has examples of shape [{string.Join("×", train.ExampleShape)}], the model takes [{string.Join("×", Model.InputShape)}].", nameof(train));
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
            step.Train();
            var clock = Stopwatch.StartNew();
            double lossSum = 0, elboSum = 0, reconstructionSum = 0, klSum = 0;
            long examples = 0;
            int batchNumber = 0;
            // The calling thread runs its kernels as the step's other threads do (one each where the step splits over the cores).
            using (TorchThreads.Use(step.KernelThreads))
            {
                foreach (Batch batch in sampler.NextEpoch())
                {
                    cancellation.ThrowIfCancellationRequested();
                    batchNumber++;
                    using var scope = NewDisposeScope();
                    using (batch)
                    {
                        Tensor x = treatment.Dequantized(batch.Examples.device == Device ? batch.Examples : batch.Examples.to(Device), generator);
                        StepResult result = step.Run(x, new StepPosition(epoch, batchNumber, Step));
                        Step++;
                        int n = batch.Count;
                        examples += n;
                        lossSum += (result.Loss + jacobian) * n;   // the objective on the discrete image (a bound) when dequantised
                        reconstructionSum += result.ReconstructionSum - jacobian * n;   // of the discrete image (a bound) when dequantised
                        klSum += result.KlSum;
                        elboSum += result.ReconstructionSum - jacobian * n - result.KlSum;
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
                objective.BetaAt(Math.Max(Step - 1, 0)), trainSeconds, examples / Math.Max(trainSeconds, 1e-9), Strategy.Parallelism, Strategy.Threads));
            if (checkpointPath is not null)
                SaveCheckpoint(checkpointPath);
        }
        return history;
    }

    static string VaeLabVersion => typeof(Trainer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";

    /// <summary>Frees the optimiser and the generator (not the model).</summary>
    public void Dispose()
    {
        step.Dispose();
        optimizer.Dispose();
        generator.Dispose();
    }
}
