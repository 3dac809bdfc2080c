using TorchSharp;
using VaeLab.Models;
using VaeLab.Objectives;
using static TorchSharp.torch;

namespace VaeLab.Training;

/// <summary>One shard's share of a data-parallel step: its loss and summed ELBO terms, or what became non-finite.</summary>
internal readonly record struct ShardOutcome(int Examples, double Loss, double ReconstructionSum, double KlSum, string? NonFinite);

/// <summary>
/// A training step split over the cores by examples: shard s evaluates the objective on its rows of the batch with its own
/// replica of the model (sharing the parameters' storage, with gradients of its own) on its own thread with single-threaded
/// kernels; the gradients are then added with weights nₛ/n into the optimiser's buffer and the Adam update runs in parts,
/// one per thread. The result is the full batch's gradient of the mean loss, as one model would compute it with the same ε.
/// </summary>
/// <remarks>
/// Why: libtorch splits each of the ~60 small operations of a step over its threads, so what one thread writes the other
/// reads next; where the hypervisor puts the two vCPUs on cores that share no L3 every such line crosses the fabric and the
/// step took 1.5–2× longer (docs/benchmarks.md). Here each thread reads and writes its own activations and gradients; only
/// the parameters (read by all) and the reduction cross between the cores.
/// Every shard draws its ε from a generator seeded by <see cref="ShardSeed"/> (the run's seed, the step, the shard), so a
/// run is reproducible and resumes exactly for a given number of shards. Only objectives that are means over examples can
/// be split this way (the β-ELBO and IWAE; not the capacity objective, whose |KL − C| is taken of the batch mean).
/// </remarks>
internal sealed class DataParallelStep : IDisposable
{
    /// <summary>
    /// Fewest examples a shard gets. Measured on the reference model (2 cores, 2026-12-03): two shards beat one model on
    /// libtorch's two threads at batch 64 (0.42–0.45 of the peak against 0.28–0.29) and at batch 32 (0.28–0.29 against 0.17–0.18).
    /// </summary>
    public const int MinimumShardExamples = 16;

    readonly VariationalAutoencoder[] models;
    readonly Generator[] generators;
    readonly ShardWorkers workers;
    readonly FlatAdam optimizer;
    readonly ShardOutcome[] outcomes;
    readonly double[] squares;
    readonly bool[] finite;
    readonly MlpBernoulliStep?[] handDerived;
    ObjectiveOptions? handDerivedFor;

    /// <summary>Builds <paramref name="shards"/> − 1 replicas of <paramref name="model"/> from <paramref name="config"/> and starts their threads.</summary>
    public DataParallelStep(VariationalAutoencoder model, VaeConfig config, FlatAdam optimizer, int shards, int threadsPerShard, Device device)
    {
        this.optimizer = optimizer;
        ThreadsPerShard = threadsPerShard;
        models = new VariationalAutoencoder[shards];
        models[0] = model;
        // Building a replica initialises parameters it will never use from torch's global generator: put the generator's
        // state back afterwards, so whatever the caller draws next does not depend on whether training was split.
        using Tensor globalState = torch.get_rng_state();
        try
        {
            for (int s = 1; s < shards; s++)
            {
                VariationalAutoencoder replica = config.Build();
                if (replica.Signature != model.Signature)
                {
                    replica.Dispose();
                    throw new ArgumentException($"The configuration builds '{replica.Signature}', the model is '{model.Signature}': no replica for data-parallel training.", nameof(config));
                }
                int buffer;
                try
                {
                    replica.to(model.parameters().First().dtype).to(device);
                    buffer = optimizer.AddReplica(replica.parameters());
                }
                catch
                {
                    replica.Dispose();
                    throw;
                }
                if (buffer != s) throw new InvalidOperationException($"Replica {s} got gradient buffer {buffer}.");
                models[s] = replica;
            }
        }
        finally
        {
            torch.set_rng_state(globalState);
        }
        handDerived = new MlpBernoulliStep?[shards];
        generators = Enumerable.Range(0, shards).Select(_ => new Generator(0)).ToArray();
        outcomes = new ShardOutcome[shards];
        squares = new double[shards];
        finite = new bool[shards];
        workers = new ShardWorkers(shards, threadsPerShard);
    }

    /// <summary>Number of shards (threads).</summary>
    public int Shards => models.Length;

    /// <summary>libtorch threads each shard runs with.</summary>
    public int ThreadsPerShard { get; }

    /// <summary>
    /// How many shards suit training with <paramref name="batchSize"/> and <paramref name="objective"/> on <paramref name="device"/>
    /// with <paramref name="threads"/> libtorch threads: one per thread, each with at least <see cref="MinimumShardExamples"/>
    /// examples; 1 (no split) on other devices, for the capacity objective or without a configuration to build replicas from.
    /// </summary>
    public static int ShardsFor(int batchSize, ObjectiveOptions objective, Device device, int threads, bool canReplicate) =>
        device.type != DeviceType.CPU || !Splittable(objective) || !canReplicate
            ? 1
            : Math.Max(1, Math.Min(threads, batchSize / MinimumShardExamples));

    /// <summary>Whether the objective is a mean over examples (so a batch's gradient is the weighted sum of its parts').</summary>
    public static bool Splittable(ObjectiveOptions objective) => objective.Kind is ObjectiveKind.BetaElbo or ObjectiveKind.Iwae;

    /// <summary>
    /// The seed of shard <paramref name="shard"/>'s generator at optimiser step <paramref name="step"/> of a run seeded
    /// <paramref name="runSeed"/> (SplitMix64 of the three, so neighbouring steps and shards get unrelated streams).
    /// </summary>
    public static ulong ShardSeed(long runSeed, long step, int shard) => VaeLab.Runtime.Seeds.Mix(runSeed, step, shard);

    /// <summary>Rows [start, start + count) of a batch of <paramref name="examples"/> that shard <paramref name="shard"/> of <paramref name="shards"/> takes.</summary>
    public static (int Start, int Count) Rows(int examples, int shard, int shards)
    {
        int start = (int)((long)examples * shard / shards), end = (int)((long)examples * (shard + 1) / shards);
        return (start, end - start);
    }

    /// <summary>Puts every replica in training mode.</summary>
    public void Train()
    {
        foreach (var model in models) model.train();
    }

    /// <summary>
    /// Forward and backward passes of every shard on its rows of <paramref name="x"/>; the gradients stay in the shards'
    /// buffers until <see cref="ReduceGradients"/>. Returns each shard's outcome (a non-finite one skips its backward pass).
    /// </summary>
    public IReadOnlyList<ShardOutcome> ForwardBackward(ObjectiveOptions objective, Tensor x, long step, long runSeed)
    {
        if (handDerivedFor != objective)
        {
            for (int s = 0; s < Shards; s++) handDerived[s] = MlpBernoulliStep.TryCreate(models[s], objective);
            handDerivedFor = objective;
        }
        int n = (int)x.shape[0];
        workers.Run(s =>
        {
            var (start, count) = Rows(n, s, Shards);
            if (count == 0) { optimizer.ZeroGrad(s); outcomes[s] = new ShardOutcome(0, 0, 0, 0, null); return; }
            generators[s].manual_seed(unchecked((long)ShardSeed(runSeed, step, s)));
            using var scope = NewDisposeScope();
            if (handDerived[s] is MlpBernoulliStep hand)
            {
                var (handLoss, handReconstruction, handKl) = hand.Run(x.narrow(0, start, count), objective.BetaAt(step), generators[s]);
                if (double.IsFinite(handLoss) && double.IsFinite(handReconstruction) && double.IsFinite(handKl))
                {
                    outcomes[s] = new ShardOutcome(count, handLoss, handReconstruction, handKl, null);
                    return;
                }
                generators[s].manual_seed(unchecked((long)ShardSeed(runSeed, step, s)));   // the same ε again, to say what went wrong
            }
            optimizer.ZeroGrad(s);
            using Tensor rows = x.narrow(0, start, count);
            using ObjectiveValue value = TrainingObjective.Evaluate(objective, models[s], rows, step, generators[s]);
            double loss = value.Loss.item<float>();
            double reconstruction = value.Terms.ReconstructionLogLikelihoodNats.sum().item<float>();
            double kl = value.Terms.KlNats.sum().item<float>();
            if (!double.IsFinite(loss) || !double.IsFinite(reconstruction) || !double.IsFinite(kl))
            {
                outcomes[s] = new ShardOutcome(count, loss, reconstruction, kl, Trainer.Diagnose(models[s], value));
                return;
            }
            value.Loss.backward();
            outcomes[s] = new ShardOutcome(count, loss, reconstruction, kl, null);
        });
        return outcomes;
    }

    /// <summary>
    /// One Adam step with the shards' gradients added on the fly, each thread updating its part of the parameters; false
    /// where the gradient held a NaN or ±∞ (see <see cref="FlatAdam.StepPartFromReplicas"/>: nothing non-finite is written).
    /// </summary>
    public bool StepWithShardGradients()
    {
        double[] weights = Weights();
        optimizer.BeginStep();
        workers.Run(s => finite[s] = optimizer.StepPartFromReplicas(weights, s, Shards));
        return finite.All(f => f);
    }

    double[] Weights()
    {
        int total = outcomes.Sum(o => o.Examples);
        return outcomes.Select(o => (double)o.Examples / total).ToArray();
    }

    /// <summary>Adds the shards' gradients, each weighted by its share of the batch, into the model's; returns their joint norm.</summary>
    public double ReduceGradients()
    {
        double[] weights = Weights();
        workers.Run(s => squares[s] = optimizer.ReduceGradients(weights, s, Shards));
        return Math.Sqrt(squares.Sum());
    }

    /// <summary>One Adam step, each thread updating its part of the parameters.</summary>
    public void Step()
    {
        optimizer.BeginStep();
        workers.Run(s => optimizer.StepPart(s, Shards));
    }

    /// <summary>Stops the threads and frees the replicas and generators (not the model of shard 0).</summary>
    public void Dispose()
    {
        workers.Dispose();
        for (int s = 1; s < models.Length; s++)
        {
            // The replica's parameters are views of the optimiser's buffers, and their gradients views of its own: free both.
            foreach (var parameter in models[s].parameters())
            {
                parameter.grad?.Dispose();
                parameter.Dispose();
            }
            models[s].Dispose();
        }
        foreach (var generator in generators) generator.Dispose();
    }
}
