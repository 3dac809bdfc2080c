using TorchSharp;
using TorchSharp.Modules;
using VaeLab.Models;
using VaeLab.Objectives;
using VaeLab.Optimization;
using static TorchSharp.torch;

namespace VaeLab.Training.Steps;

/// <summary>
/// Every rule for how a training step runs, in one place: which strategies can train a model (and, where one cannot, why), which
/// one <see cref="TrainingParallelism.Auto"/> picks, and when a shard's pass is the hand-derived one. The speed rules' figures
/// are measured in docs/benchmarks.md ("How a training step runs").
/// </summary>
internal static class StepSelector
{
    /// <summary>Fewest examples a shard gets when Auto splits by examples (below, one model on libtorch's threads was faster).</summary>
    public const int MinimumShardExamples = 16;

    /// <summary>Largest batch for which Auto splits the layers rather than the examples (above, the examples' split was faster).</summary>
    public const int LargestLayerSplitBatch = 256;

    /// <summary>
    /// The strategy for training <paramref name="model"/> with <paramref name="options"/> on <paramref name="threads"/> threads:
    /// the one asked for, or Auto's choice. <paramref name="optimizer"/> must hold exactly the model's parameters.
    /// </summary>
    /// <exception cref="ArgumentException">The strategy asked for cannot train this model; the message says why.</exception>
    public static TrainingStrategy Choose(VariationalAutoencoder model, TrainingOptions options, FlatAdam optimizer, int threads)
    {
        ObjectiveOptions objective = options.ObjectiveOrDefault;
        switch (options.Parallelism)
        {
            case TrainingParallelism.OneModel:
                return new TrainingStrategy(TrainingParallelism.OneModel, threads, "asked for");
            case TrainingParallelism.SplitLayers:
                if (WhyNotSplitLayers(model, objective, options, threads, optimizer) is string layersWhyNot)
                    throw new ArgumentException($"SplitLayers needs a one-hidden-layer MLP VAE with a Bernoulli likelihood and the β-ELBO, in float32 on the CPU, " +
                                                $"without gradient clipping, on two or more threads; {layersWhyNot}.", nameof(TrainingOptions.Parallelism));
                return new TrainingStrategy(TrainingParallelism.SplitLayers, threads, "asked for");
            case TrainingParallelism.SplitExamples:
                if (WhyNotSplitExamples(model, objective, options, threads) is string examplesWhyNot)   // as asked: one shard per thread
                    throw new ArgumentException($"SplitExamples needs a model built from a VaeConfig, an objective that is a mean over examples (β-ELBO, IWAE), " +
                                                $"the CPU and two or more threads, with at least one example per thread; {examplesWhyNot}.", nameof(TrainingOptions.Parallelism));
                return new TrainingStrategy(TrainingParallelism.SplitExamples, threads, "asked for");
        }
        // Auto: one thread per MinimumShardExamples examples at most, then the layers' split where it applies, else the examples'.
        int shards = Math.Min(threads, options.BatchSize / MinimumShardExamples);
        if (shards < 2)
            return new TrainingStrategy(TrainingParallelism.OneModel, threads,
                threads < 2 ? $"Auto: there is {threads} thread" : $"Auto: batch {options.BatchSize} gives fewer than {MinimumShardExamples} examples to each of {threads} threads");
        string? autoLayersWhyNot = WhyNotSplitLayers(model, objective, options, shards, optimizer);
        if (autoLayersWhyNot is null && options.BatchSize <= LargestLayerSplitBatch)
            return new TrainingStrategy(TrainingParallelism.SplitLayers, shards,
                $"Auto: a one-hidden-layer MLP with a Bernoulli likelihood and the β-ELBO, batch {options.BatchSize} ≤ {LargestLayerSplitBatch}");
        string layers = autoLayersWhyNot is null ? $"batch {options.BatchSize} > {LargestLayerSplitBatch} for SplitLayers" : $"not SplitLayers: {autoLayersWhyNot}";
        string? autoExamplesWhyNot = WhyNotSplitExamples(model, objective, options, shards);
        if (autoExamplesWhyNot is null)
            return new TrainingStrategy(TrainingParallelism.SplitExamples, shards, $"Auto: {layers}; {shards} shards of ≥ {MinimumShardExamples} examples");
        return new TrainingStrategy(TrainingParallelism.OneModel, threads, $"Auto: {layers}; not SplitExamples: {autoExamplesWhyNot}");
    }

    /// <summary>The step that runs <paramref name="strategy"/>, each of its threads running libtorch's kernels on an equal share of <paramref name="threads"/>.</summary>
    public static ITrainingStep Create(StepSetup setup, TrainingStrategy strategy, int threads) => strategy.Parallelism switch
    {
        TrainingParallelism.SplitLayers => new SplitLayersStep(setup, strategy, Math.Max(1, threads / strategy.Threads)),
        TrainingParallelism.SplitExamples => new SplitExamplesStep(setup, strategy, Math.Max(1, threads / strategy.Threads)),
        _ => new AutogradStep(setup, strategy),
    };

    /// <summary>Why the layers cannot be split between <paramref name="threads"/> threads for this model and these settings ("this model has …"); null when they can.</summary>
    public static string? WhyNotSplitLayers(VariationalAutoencoder model, ObjectiveOptions objective, TrainingOptions options, int threads, FlatAdam optimizer)
    {
        if (threads < 2) return $"there is {threads} thread (TrainingOptions.Threads, or libtorch's count: `vaelab --threads`)";
        if (objective.Kind != ObjectiveKind.BetaElbo) return $"the objective is {objective.Kind}";
        if (options.GradientClipNorm is not null) return "gradient clipping is on (each thread updates its units before the whole gradient's norm is known)";
        if (ArchitectureWhyNot(model) is string architecture) return architecture;
        Linear[] encoder = ((MlpEncoder)model.Encoder).LinearLayers.ToArray(), decoder = ((MlpDecoder)model.Decoder).LinearLayers.ToArray();
        if (encoder.Length != 2 || decoder.Length != 2)
            return $"this model has {encoder.Length - 1} hidden layer(s) in its encoder and {decoder.Length - 1} in its decoder, not one each";
        Linear[] layers = [.. encoder, .. decoder];
        if (model.parameters().Count() != 2 * layers.Length || optimizer.Count != model.parameters().Sum(p => p.numel()))
            return "this model has parameters outside its four linear layers";
        long hiddenUnits = encoder[0].weight!.shape[0], pixels = encoder[0].weight!.shape[1];
        if (decoder[1].weight!.shape[0] != pixels)
            return $"this model's decoder outputs {decoder[1].weight!.shape[0]} values for {pixels} inputs (a thread's pixel block must be the same in both)";
        if (hiddenUnits < SplitLayersStep.BlockAlignment * threads || pixels < SplitLayersStep.BlockAlignment * threads)
            return $"this model has {hiddenUnits} hidden units and {pixels} inputs, fewer than {SplitLayersStep.BlockAlignment} per thread for {threads} threads";
        if (decoder[0].weight!.numel() * 8 > layers.Sum(l => l.weight!.numel()))
            return "this model's latent layer holds more than an eighth of its weights (every thread computes it in full)";
        return null;
    }

    /// <summary>Why the examples cannot be split over <paramref name="threads"/> replicas for this model and these settings; null when they can.</summary>
    public static string? WhyNotSplitExamples(VariationalAutoencoder model, ObjectiveOptions objective, TrainingOptions options, int threads)
    {
        if (threads < 2) return $"there is {threads} thread (TrainingOptions.Threads, or libtorch's count: `vaelab --threads`)";
        if (!IsMeanOverExamples(objective)) return $"the {objective.Kind} objective is not a mean over examples, so a batch's gradient is not the sum of its parts'";
        if (model.parameters().First().device_type != DeviceType.CPU) return $"the model is on {model.parameters().First().device}, and the split runs on CPU threads";
        if (model.Config is null) return "this model was not built from a VaeConfig, so no replica of it can be made";
        if (!model.Prior.IsStandard) return $"this model's prior is {model.Prior.Spec}, whose parameters the split does not share out yet";
        if (options.BatchSize < threads) return $"the batch of {options.BatchSize} has fewer examples than the {threads} threads";
        return null;
    }

    /// <summary>Whether the objective is a mean over examples (so a batch's gradient is the weighted sum of its parts').</summary>
    public static bool IsMeanOverExamples(ObjectiveOptions objective) => objective.Kind is ObjectiveKind.BetaElbo or ObjectiveKind.Iwae or ObjectiveKind.Miwae or ObjectiveKind.Ciwae;

    /// <summary>Whether a shard's forward and backward pass can be <see cref="MlpBernoulliStep"/>'s hand-derived one.</summary>
    public static bool HandDerivedApplies(VariationalAutoencoder model, ObjectiveOptions objective) =>
        objective.Kind == ObjectiveKind.BetaElbo && ArchitectureWhyNot(model) is null;

    // An MLP encoder and decoder with biases, a diagonal Gaussian posterior, a Bernoulli likelihood, float32 on the CPU: what the
    // hand-derived formulas cover.
    static string? ArchitectureWhyNot(VariationalAutoencoder model)
    {
        if (model.Posterior is not Models.Posteriors.DiagonalPosterior)
            return $"this model's posterior is {model.Posterior.Spec}, not the diagonal Gaussian whose formulas the hand-derived step differentiates";
        if (!model.Prior.IsStandard) return $"this model's prior is {model.Prior.Spec}, not the standard normal whose KL the hand-derived step differentiates";
        if (model.Encoder is not MlpEncoder mlpEncoder) return $"this model's encoder is a {model.Encoder.GetType().Name}, not an MLP";
        if (model.Decoder is not MlpDecoder mlpDecoder) return $"this model's decoder is a {model.Decoder.GetType().Name}, not an MLP";
        if (model.Likelihood is not BernoulliLikelihood) return $"this model has a {model.Likelihood.GetType().Name}, not a Bernoulli likelihood";
        foreach (Linear layer in mlpEncoder.LinearLayers.Concat(mlpDecoder.LinearLayers))
        {
            if (layer.weight is null || layer.bias is null) return "this model has a linear layer without a bias";
            if (layer.weight.dtype != ScalarType.Float32) return $"this model's parameters are {layer.weight.dtype}, not Float32";
            if (layer.weight.device_type != DeviceType.CPU) return $"this model is on {layer.weight.device}, not the CPU";
        }
        return null;
    }
}
