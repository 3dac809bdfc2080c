using TorchSharp;
using VaeLab.Models;
using VaeLab.Objectives;
using VaeLab.Optimization;
using VaeLab.Runtime;
using static TorchSharp.torch;

namespace VaeLab.Training.Steps;

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
/// Every shard draws its ε from a generator seeded by <see cref="Seeds.Mix"/>(the run's seed, the step, the shard), so a
/// run is reproducible and resumes exactly for a given number of shards. Only objectives that are means over examples can
/// be split this way (the β-ELBO and IWAE; not the capacity objective, whose |KL − C| is taken of the batch mean):
/// <see cref="StepSelector"/> holds that rule and the others. Where <see cref="MlpBernoulliStep"/> applies, a shard's
/// forward and backward pass is the hand-derived one.
/// </remarks>
internal sealed class SplitExamplesStep : ITrainingStep
{
    readonly StepSetup setup;
    readonly VariationalAutoencoder[] models;
    readonly Generator[] generators;
    readonly ShardWorkers workers;
    readonly FlatAdam optimizer;
    readonly ShardOutcome[] outcomes;
    readonly double[] squares;
    readonly bool[] finite;
    readonly MlpBernoulliStep?[] handDerived;
    ObjectiveOptions? handDerivedFor;

    /// <summary>Builds <see cref="TrainingStrategy.Threads"/> − 1 replicas of the model from the configuration it was built from and starts their threads.</summary>
    /// <exception cref="ArgumentException">The model was not built from a <see cref="VaeConfig"/> (no replica can be made).</exception>
    public SplitExamplesStep(StepSetup setup, TrainingStrategy strategy, int threadsPerShard)
    {
        this.setup = setup;
        Strategy = strategy;
        VariationalAutoencoder model = setup.Model;
        VaeConfig config = model.Config ?? throw new ArgumentException("Splitting examples builds replicas of the model from its VaeConfig; this model was not built from one.", nameof(setup));
        FlatAdam optimizer = setup.Optimizer;
        int shards = strategy.Threads;
        Device device = model.parameters().First().device;
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
                    throw new ArgumentException($"The configuration builds '{replica.Signature}', the model is '{model.Signature}': no replica for data-parallel training.", nameof(setup));
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

    /// <inheritdoc/>
    public TrainingStrategy Strategy { get; }

    /// <inheritdoc/>
    public int KernelThreads => ThreadsPerShard;

    /// <summary>Number of shards (threads).</summary>
    public int Shards => models.Length;

    /// <summary>libtorch threads each shard runs with.</summary>
    public int ThreadsPerShard { get; }

    /// <summary>
    /// The seed of shard <paramref name="shard"/>'s generator at optimiser step <paramref name="step"/> of a run seeded
    /// <paramref name="runSeed"/> (<see cref="Seeds.Mix"/> of the three, so neighbouring steps and shards get unrelated streams).
    /// </summary>
    public static ulong ShardSeed(long runSeed, long step, int shard) => Seeds.Mix(runSeed, step, shard);

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
            for (int s = 0; s < Shards; s++) handDerived[s] = StepSelector.HandDerivedApplies(models[s], objective) ? new MlpBernoulliStep(models[s]) : null;
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
                outcomes[s] = new ShardOutcome(count, loss, reconstruction, kl, NonFiniteDiagnosis.Of(models[s], value));
                return;
            }
            value.Loss.backward();
            outcomes[s] = new ShardOutcome(count, loss, reconstruction, kl, null);
        });
        return outcomes;
    }

    /// <summary>
    /// One step: forward and backward per shard, the weighted gradient sum, the update in parts (clipping, when asked for,
    /// needs the whole gradient's norm first).
    /// </summary>
    public StepResult Run(Tensor x, StepPosition at)
    {
        IReadOnlyList<ShardOutcome> shardOutcomes = ForwardBackward(setup.Objective, x, at.Step, setup.Options.Seed);
        foreach (ShardOutcome outcome in shardOutcomes)
            if (outcome.NonFinite is string what) throw new NonFiniteValueException(at.Epoch, at.Batch, what);
        int total = shardOutcomes.Sum(o => o.Examples);
        double loss = shardOutcomes.Sum(o => o.Loss * o.Examples / total);
        if (setup.Options.GradientClipNorm is double clip)
        {
            double norm = ReduceGradients();
            optimizer.ClipGivenNorm(norm, clip);
            NonFiniteDiagnosis.ThrowIfGradientNotFinite(setup.Model, norm, at);
            Step();
        }
        else if (!StepWithShardGradients())
        {
            // No norm is needed without clipping: the update forms the gradient on the fly and refuses a non-finite one.
            // Name where it came from (a NaN on the way stopped the update before anything non-finite was written).
            NonFiniteDiagnosis.ThrowIfGradientNotFinite(setup.Model, ReduceGradients(), at);
        }
        return new StepResult(loss, shardOutcomes.Sum(o => o.ReconstructionSum), shardOutcomes.Sum(o => o.KlSum));
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
        optimizer.RemoveReplicas();   // another step (a resumed run's) may take the optimiser on
    }
}
