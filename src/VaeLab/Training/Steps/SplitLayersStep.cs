using System.Runtime.ExceptionServices;
using TorchSharp;
using TorchSharp.Modules;
using VaeLab.Kernels;
using VaeLab.Models;
using VaeLab.Objectives;
using VaeLab.Optimization;
using VaeLab.Runtime;
using static TorchSharp.torch;
using static VaeLab.Kernels.LinearKernels;
using static VaeLab.Training.Steps.MlpBernoulliStep;

namespace VaeLab.Training.Steps;

/// <summary>One layer-split pass: the batch's mean loss and summed ELBO terms (nats), and whether every part was updated.</summary>
internal readonly record struct SplitLayersOutcome(double Loss, double ReconstructionSum, double KlSum, bool LossFinite, bool Updated);

/// <summary>
/// The β-ELBO step of a one-hidden-layer MLP VAE with a Bernoulli likelihood (the reference recipe's 784-400-20) with its two
/// large layers split between threads (tensor parallelism): thread s owns a block of the encoder's hidden units (rows of W₁,
/// columns of the head W₂) and a block of the pixels (rows of the output layer W₄); it computes their activations, gradients
/// and Adam update on its own core. The small latent layers are computed by every thread alike. Per step, the threads
/// exchange the head's partial sums [n, 2d], the partial gradients at the decoder's hidden layer [n, H] and the per-pixel-block
/// log-likelihoods, at two barriers; the parameters, their gradients and Adam's moments never leave the core that owns them.
/// </summary>
/// <remarks>
/// Why (docs/benchmarks.md): a data-parallel step reads every parameter on every core and adds every core's gradient, so
/// 2.6 MB cross between the cores each step; where the hypervisor places the two vCPUs on cores that share no L3 that costs
/// ~0.8 ms of a 4 ms step. Here about 0.3 MB cross. The result is one model's on the whole batch with one ε: every thread
/// draws the same ε from a generator seeded <see cref="Seeds.Mix"/>(seed, step, 0), so it equals autograd's
/// gradient of <see cref="Elbo.Estimate(VariationalAutoencoder, Tensor, Generator?, int)"/> with that generator (to float
/// rounding; tests and check 5), for any number of threads. The formulas are <see cref="MlpBernoulliStep"/>'s.
/// </remarks>
internal sealed class SplitLayersStep : ITrainingStep
{
    /// <summary>Fewest units (hidden units, pixels) a thread's block holds; blocks start on 16-element (64-byte) boundaries.</summary>
    public const int BlockAlignment = 16;

    readonly StepSetup setup;
    readonly FlatAdam optimizer;
    readonly Linear input, head, latentLayer, output;   // D→H, H→2d, d→H₃, H₃→D
    readonly int latent, hidden, decoderHidden, dimensions;
    readonly (int Start, int Count)[] hiddenBlocks, pixelBlocks;
    readonly (long Start, long Count)[][] owned;
    readonly (long Start, long Count)[] shared;
    readonly ShardWorkers workers;
    readonly SpinBarrier barrier;
    readonly Generator[] generators;
    readonly bool[] updated, stepped;
    readonly Exception?[] errors;
    Tensor[] headPartials = [], hiddenGradientPartials = [], reconstructions = [];
    long capacity;
    volatile bool failed;

    /// <summary>The layer-split step for the model of <paramref name="setup"/>, which <see cref="StepSelector.WhyNotSplitLayers"/> must accept.</summary>
    /// <exception cref="ArgumentException">The selector's rules rule the model, objective or settings out (the message says which).</exception>
    public SplitLayersStep(StepSetup setup, TrainingStrategy strategy, int threadsPerThread)
    {
        if (StepSelector.WhyNotSplitLayers(setup.Model, setup.Objective, setup.Options, strategy.Threads, setup.Optimizer) is string why)
            throw new ArgumentException($"SplitLayers cannot train this model: {why}", nameof(setup));
        this.setup = setup;
        Strategy = strategy;
        int threads = strategy.Threads;
        optimizer = setup.Optimizer;
        Linear[] encoder = ((MlpEncoder)setup.Model.Encoder).LinearLayers.ToArray(), decoder = ((MlpDecoder)setup.Model.Decoder).LinearLayers.ToArray();
        (input, head) = (encoder[0], encoder[1]);
        (latentLayer, output) = (decoder[0], decoder[1]);
        hidden = (int)input.weight!.shape[0];
        dimensions = (int)input.weight!.shape[1];
        latent = (int)latentLayer.weight!.shape[1];
        decoderHidden = (int)latentLayer.weight!.shape[0];
        hiddenBlocks = Blocks(hidden, threads);
        pixelBlocks = Blocks(dimensions, threads);
        owned = new (long, long)[threads][];
        for (int s = 0; s < threads; s++)
        {
            var (h0, hc) = hiddenBlocks[s];
            var (p0, pc) = pixelBlocks[s];
            long w2 = Offset(head.weight!);
            owned[s] =
            [
                (Offset(input.weight!) + (long)h0 * dimensions, (long)hc * dimensions),
                (Offset(input.bias!) + h0, hc),
                .. Enumerable.Range(0, 2 * latent).Select(r => (w2 + (long)r * hidden + h0, (long)hc)),
                (Offset(output.weight!) + (long)p0 * decoderHidden, (long)pc * decoderHidden),
                (Offset(output.bias!) + p0, pc),
            ];
        }
        shared = [(Offset(head.bias!), 2 * latent), (Offset(latentLayer.weight!), (long)decoderHidden * latent), (Offset(latentLayer.bias!), decoderHidden)];
        long covered = owned.Sum(o => o.Sum(r => r.Count)) + shared.Sum(r => r.Count);
        if (covered != optimizer.Count) throw new InvalidOperationException($"The split covers {covered} of {optimizer.Count} parameters.");
        generators = Enumerable.Range(0, threads).Select(_ => new Generator(0)).ToArray();
        updated = new bool[threads];
        stepped = new bool[threads];
        errors = new Exception?[threads];
        barrier = new SpinBarrier(threads);
        workers = new ShardWorkers(threads, threadsPerThread);
        ThreadsPerThread = threadsPerThread;
    }

    long Offset(Tensor parameter) => optimizer.OffsetOf(parameter);

    /// <inheritdoc/>
    public TrainingStrategy Strategy { get; }

    /// <inheritdoc/>
    public int KernelThreads => ThreadsPerThread;

    /// <summary>Number of threads the layers are split between.</summary>
    public int Threads => generators.Length;

    /// <summary>libtorch threads each of them runs its kernels with.</summary>
    public int ThreadsPerThread { get; }

    /// <summary>Blocks [start, start + count) of <paramref name="units"/> for <paramref name="parts"/> threads, on 16-unit boundaries.</summary>
    public static (int Start, int Count)[] Blocks(int units, int parts)
    {
        var starts = Enumerable.Range(0, parts + 1).Select(s => s == parts ? units : (int)Math.Round((double)units * s / parts / BlockAlignment) * BlockAlignment).ToArray();
        return Enumerable.Range(0, parts).Select(s => (starts[s], starts[s + 1] - starts[s])).ToArray();
    }

    /// <summary>
    /// One step on batch <paramref name="x"/> [n, …] (float32, CPU): loss, gradients (into the parameters' <c>.grad</c>, the
    /// whole batch's) and the Adam update, with ε from a generator seeded <paramref name="seed"/>. Where the loss is not finite
    /// nothing is updated; where a gradient is not finite the update stops before it (each thread in its own part).
    /// </summary>
    public SplitLayersOutcome Pass(Tensor x, double beta, long seed)
    {
        long n = x.shape[0];
        if (n > capacity) Allocate(n);
        using Tensor rows = x.reshape(n, dimensions).contiguous();
        var results = new (double Reconstruction, double Kl, bool Finite)[Threads];
        failed = false;
        Array.Clear(stepped);
        // The calling thread is thread 0: kernels with the workers' thread count (the training loop has set it already).
        using var kernelThreads = TorchThreads.Use(ThreadsPerThread);
        optimizer.BeginStep();
        try
        {
            workers.Run(s => results[s] = RunThread(s, rows, beta, seed));
        }
        catch
        {
            if (!stepped.Any(b => b)) optimizer.AbandonStep();
            throw;
        }
        Exception? error = errors.FirstOrDefault(e => e is not null);
        Array.Clear(errors);
        if (error is not null)
        {
            // The step counts only where some thread has begun updating (its parameters have moved).
            if (!stepped.Any(b => b)) optimizer.AbandonStep();
            ExceptionDispatchInfo.Capture(error).Throw();
        }
        var (reconstruction, kl, finite) = results[0];
        double loss = BetaElboLoss.Mean(reconstruction, kl, beta, n);
        if (!finite)
        {
            optimizer.AbandonStep();
            return new SplitLayersOutcome(loss, reconstruction, kl, LossFinite: false, Updated: false);
        }
        // The layers every thread read (the head's bias, the latent layer) are updated once all are done with them.
        bool all = updated.All(u => u);
        foreach (var (start, count) in shared)
            if (all) all = optimizer.StepRange(start, count);
        return new SplitLayersOutcome(loss, reconstruction, kl, LossFinite: true, Updated: all);
    }

    /// <summary>
    /// One step of the run: the pass with ε seeded by <see cref="Seeds.Mix"/>(run seed, step, 0). Where the loss is not finite
    /// the batch is evaluated again with autograd and the same ε, to name what went wrong.
    /// </summary>
    public StepResult Run(Tensor x, StepPosition at)
    {
        long seed = unchecked((long)Seeds.Mix(setup.Options.Seed, at.Step, 0));
        SplitLayersOutcome outcome = Pass(x, setup.Objective.BetaAt(at.Step), seed);
        if (!outcome.LossFinite)
        {
            // Nothing was updated: evaluate the batch again with autograd and the same ε, to say what went wrong.
            using var same = new Generator(0);
            same.manual_seed(seed);
            using ObjectiveValue value = TrainingObjective.Evaluate(setup.Objective, setup.Model, x, at.Step, same);
            throw new NonFiniteValueException(at.Epoch, at.Batch, NonFiniteDiagnosis.Of(setup.Model, value));
        }
        if (!outcome.Updated)
        {
            // A part of the gradient held a NaN or ±∞ (parts before it were updated, with finite values): name the parameter.
            NonFiniteDiagnosis.ThrowIfGradientNotFinite(setup.Model, optimizer.GradientNorm(), at);
            throw new NonFiniteValueException(at.Epoch, at.Batch, "the gradient");
        }
        return new StepResult(outcome.Loss, outcome.ReconstructionSum, outcome.KlSum);
    }

    /// <inheritdoc/>
    public void Train() => setup.Model.train();

    (double Reconstruction, double Kl, bool Finite) RunThread(int s, Tensor x, double beta, long seed)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long n = x.shape[0];
        var (h0, hc) = hiddenBlocks[s];
        var (p0, pc) = pixelBlocks[s];
        Tensor w1 = null!, b1 = null!, w2 = null!, w4 = null!, b4 = null!;
        Tensor h1 = null!, headOutput = null!, epsilon = null!, sigma = null!, z = null!, h3 = null!, mean = null!, logVariance = null!;
        double reconstruction = 0, kl = 0;
        bool finite = false;
        updated[s] = false;

        // 1. This thread's hidden units and their share of the head: [μ, log σ²] = Σₛ h₁ₛ W₂ₛᵀ + b₂.
        Guarded(s, () =>
        {
            (w1, b1, w2) = (input.weight!.narrow(0, h0, hc), input.bias!.narrow(0, h0, hc), head.weight!.narrow(1, h0, hc));
            (w4, b4) = (output.weight!.narrow(0, p0, pc), output.bias!.narrow(0, p0, pc));
            h1 = nn.functional.linear(x, w1, b1).relu_();
            headPartials[s].narrow(0, 0, n).addmm_(h1, w2.t(), beta: 0, alpha: 1);
        });
        barrier.SignalAndWait();

        // 2. Every thread: the head, ε (the same on all), z, the decoder's hidden layer; then this thread's pixels, their
        //    log-likelihood and gradient, W₄'s rows and their share of ∂loss/∂h₃.
        Guarded(s, () =>
        {
            headOutput = headPartials[0].narrow(0, 0, n).clone();
            for (int t = 1; t < Threads; t++) headOutput.add_(headPartials[t].narrow(0, 0, n));
            headOutput.add_(head.bias!);
            mean = headOutput.narrow(1, 0, latent);
            logVariance = headOutput.narrow(1, latent, latent);
            generators[s].manual_seed(seed);
            epsilon = randn(mean.shape, mean.dtype, mean.device, generator: generators[s]);
            sigma = DiagonalGaussian.StandardDeviation(logVariance);
            z = DiagonalGaussian.Sample(mean, logVariance, epsilon);
            h3 = nn.functional.linear(z, latentLayer.weight!, latentLayer.bias!).relu_();
            Tensor logits = nn.functional.linear(h3, w4, b4).contiguous();
            BernoulliKernel.Evaluate(Floats(logits), Floats(x)[p0..], Floats(reconstructions[s].narrow(0, 0, n)), Floats(logits), 1f / n, pc, dimensions);
            output.weight!.grad!.narrow(0, p0, pc).addmm_(logits.t(), h3, beta: 0, alpha: 1);
            ColumnSums(Floats(logits), Floats(output.bias!.grad!.narrow(0, p0, pc)));
            hiddenGradientPartials[s].narrow(0, 0, n).addmm_(logits, w4, beta: 0, alpha: 1);
        });
        barrier.SignalAndWait();

        // 3. Every thread: the loss (the same on all, so all decide alike), ∂h₃ and the latent backward; then this thread's
        //    part of W₂ and W₁, and the Adam update of everything it owns.
        Guarded(s, () =>
        {
            for (int t = 0; t < Threads; t++)
                foreach (float value in Floats(reconstructions[t].narrow(0, 0, n))) reconstruction += value;
            kl = GaussianKl.PerDimension(mean, logVariance).sum().item<float>();
            finite = double.IsFinite(reconstruction) && double.IsFinite(kl);
            if (!finite) return;
            Tensor gradH3 = hiddenGradientPartials[0].narrow(0, 0, n).clone();
            for (int t = 1; t < Threads; t++) gradH3.add_(hiddenGradientPartials[t].narrow(0, 0, n));
            ZeroWhereOff(Floats(gradH3), Floats(h3));
            // The shared layers' gradients are written once, by the last thread (the first one also runs the training loop).
            bool last = s == Threads - 1;
            if (last)
            {
                latentLayer.weight!.grad!.addmm_(gradH3.t(), z, beta: 0, alpha: 1);
                ColumnSums(Floats(gradH3), Floats(latentLayer.bias!.grad!));
            }
            Tensor gradHead = LatentBackward(gradH3.mm(latentLayer.weight!), headOutput, epsilon, sigma, BetaElboLoss.KlWeight(beta, n));
            if (last) ColumnSums(Floats(gradHead), Floats(head.bias!.grad!));
            head.weight!.grad!.narrow(1, h0, hc).addmm_(gradHead.t(), h1, beta: 0, alpha: 1);
            Tensor gradH1 = gradHead.mm(w2);
            ZeroWhereOff(Floats(gradH1), Floats(h1));
            input.weight!.grad!.narrow(0, h0, hc).addmm_(gradH1.t(), x, beta: 0, alpha: 1);
            ColumnSums(Floats(gradH1), Floats(input.bias!.grad!.narrow(0, h0, hc)));
            bool ok = true;
            stepped[s] = true;
            foreach (var (start, count) in owned[s])
                if (ok) ok = optimizer.StepRange(start, count);
            updated[s] = ok;
        });
        return (reconstruction, kl, finite);
    }

    // Runs a phase unless a thread has failed; a failure is recorded (rethrown by Run) and the thread still meets the barriers.
    void Guarded(int s, Action phase)
    {
        if (failed) return;
        try { phase(); }
        catch (Exception e)
        {
            errors[s] = e;
            failed = true;
        }
    }

    void Allocate(long n)
    {
        foreach (Tensor t in headPartials.Concat(hiddenGradientPartials).Concat(reconstructions)) t.Dispose();
        // Kept across steps: out of the caller's dispose scope (a training loop opens one per batch).
        headPartials = Enumerable.Range(0, Threads).Select(_ => empty(n, 2 * latent, ScalarType.Float32).DetachFromDisposeScope()).ToArray();
        hiddenGradientPartials = Enumerable.Range(0, Threads).Select(_ => empty(n, decoderHidden, ScalarType.Float32).DetachFromDisposeScope()).ToArray();
        reconstructions = Enumerable.Range(0, Threads).Select(_ => empty(n, ScalarType.Float32).DetachFromDisposeScope()).ToArray();
        capacity = n;
    }

    /// <summary>Stops the threads and frees the exchange buffers and generators.</summary>
    public void Dispose()
    {
        workers.Dispose();
        foreach (Tensor t in headPartials.Concat(hiddenGradientPartials).Concat(reconstructions)) t.Dispose();
        foreach (var generator in generators) generator.Dispose();
    }
}
