using VaeLab.Data;
using VaeLab.Objectives;

namespace VaeLab.Training;

/// <summary>
/// How to train. Defaults are the pytorch/examples VAE recipe: Adam with learning rate 1e-3, batch 128,
/// 10 epochs, one z sample per example, the plain ELBO (β = 1).
/// </summary>
/// <param name="Epochs">Epochs to train to (a resumed run continues up to this number).</param>
/// <param name="BatchSize">Examples per optimiser step.</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="WeightDecay">Adam's L2 weight decay.</param>
/// <param name="GradientClipNorm">Clip the global gradient norm to this value (null: no clipping).</param>
/// <param name="Seed">Seed of the run's generator: epoch orders, binarisation and every ε.</param>
/// <param name="Binarization">Grey levels as they are, static or dynamic binarisation.</param>
/// <param name="Objective">The objective and its schedule.</param>
/// <param name="Dequantization">Uniform dequantisation of quantised pixels: Auto (exactly when a continuous density meets 8-bit data), None or Uniform.</param>
/// <param name="Parallelism">How a step spreads over the cores: Auto (the fastest strategy that applies) or one asked for, which fails with the reason where it cannot apply.</param>
/// <param name="Threads">Threads a step runs on (null: libtorch's thread count).</param>
public sealed record TrainingOptions(
    int Epochs = 10,
    int BatchSize = 128,
    double LearningRate = 1e-3,
    double WeightDecay = 0,
    double? GradientClipNorm = null,
    long Seed = 0,
    Binarization Binarization = Binarization.None,
    ObjectiveOptions? Objective = null,
    Dequantization Dequantization = Dequantization.Auto,
    TrainingParallelism Parallelism = TrainingParallelism.Auto,
    int? Threads = null)
{
    /// <summary>The objective in force (the plain ELBO when none was given).</summary>
    public ObjectiveOptions ObjectiveOrDefault => Objective ?? new ObjectiveOptions();

    /// <summary>Checks every setting, naming the first invalid one.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An invalid setting.</exception>
    public void Validate()
    {
        if (Epochs < 0) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Epochs must not be negative.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "The batch size must be at least 1.");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "The learning rate must be a positive number.");
        if (!(WeightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "Weight decay must not be negative.");
        if (GradientClipNorm is double clip && !(clip > 0)) throw new ArgumentOutOfRangeException(nameof(GradientClipNorm), clip, "The gradient clipping norm must be positive.");
        if (Threads is int threads && threads < 1) throw new ArgumentOutOfRangeException(nameof(Threads), threads, "A step needs at least one thread.");
        if (!Enum.IsDefined(Parallelism)) throw new ArgumentOutOfRangeException(nameof(Parallelism), Parallelism, "Unknown parallelism.");
        ObjectiveOrDefault.Validate();
    }

    /// <summary>The settings that define the run's figures: all but how far it goes (<see cref="Epochs"/>) and how its steps run.</summary>
    public TrainingOptions WhatTheRunIs() => this with { Epochs = 0, Parallelism = TrainingParallelism.Auto, Threads = null };
}
