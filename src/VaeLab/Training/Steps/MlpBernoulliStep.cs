using TorchSharp.Modules;
using VaeLab.Models;
using VaeLab.Objectives;
using static TorchSharp.torch;
using static VaeLab.Kernels.LinearKernels;

namespace VaeLab.Training.Steps;

/// <summary>
/// The β-ELBO's forward and backward pass for an MLP encoder, an MLP decoder and a Bernoulli likelihood, derived by hand:
/// the matrix products are libtorch's, the gradients are written straight into the parameters' gradient buffers (no
/// autograd graph, no separate accumulation pass), and the likelihood and its gradient come from one vectorised pass
/// (<see cref="VaeLab.Kernels.BernoulliKernel"/>). Same ε as <see cref="VariationalAutoencoder.Reparameterize"/> draws from the same
/// generator, so the result equals autograd's on <see cref="Elbo.Estimate(VariationalAutoencoder, Tensor, Generator?, int)"/>
/// (tests check it to float rounding, in float64 too).
/// </summary>
/// <remarks>
/// With loss = (1/n) Σᵢ [−log p(xᵢ|zᵢ) + β KLᵢ], zᵢ = μᵢ + σᵢ εᵢ, σ = exp(½ log σ²):
/// ∂loss/∂l = (σ(l) − x)/n at the decoder's logits; back through each linear layer y = hWᵀ + b: ∂W = ∂yᵀh, ∂b = Σᵢ ∂yᵢ,
/// ∂h = ∂y W, masked by h &gt; 0 after a ReLU; at the latent: ∂μ = ∂z + β μ/n, ∂log σ² = ½ ∂z ε σ + ½ β (σ² − 1)/n.
/// </remarks>
internal sealed class MlpBernoulliStep
{
    readonly Linear[] encoder, decoder;
    readonly long latent;

    /// <summary>The hand-derived step for <paramref name="model"/>, which <see cref="StepSelector.HandDerivedApplies"/> must accept.</summary>
    /// <exception cref="ArgumentException">The model is not an MLP VAE with a Bernoulli likelihood in float32 on the CPU.</exception>
    public MlpBernoulliStep(VariationalAutoencoder model)
    {
        if (!StepSelector.HandDerivedApplies(model, new ObjectiveOptions()))
            throw new ArgumentException($"The hand-derived step covers MLP VAEs with a Bernoulli likelihood in float32 on the CPU; this model is '{model.Signature}'.", nameof(model));
        encoder = ((MlpEncoder)model.Encoder).LinearLayers.ToArray();
        decoder = ((MlpDecoder)model.Decoder).LinearLayers.ToArray();
        latent = model.LatentDimensions;
    }

    /// <summary>
    /// Evaluates the β-ELBO loss of batch <paramref name="x"/> [n, D] (float32, CPU) and overwrites the parameters' gradients
    /// (<c>.grad</c>, which must exist) with its gradient. Returns the mean loss and the summed E_q[log p(x|z)] and KL, nats.
    /// </summary>
    public (double Loss, double ReconstructionSum, double KlSum) Run(Tensor x, double beta, Generator generator)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long n = x.shape[0];
        Tensor input = x.reshape(n, -1).contiguous();

        // Forward, keeping each layer's input (after its ReLU) for the backward pass.
        var encoderInputs = new Tensor[encoder.Length];
        Tensor h = input;
        for (int i = 0; i < encoder.Length; i++)
        {
            encoderInputs[i] = h;
            h = nn.functional.linear(h, encoder[i].weight!, encoder[i].bias!);
            if (i < encoder.Length - 1) h.relu_();
        }
        Tensor encoderOutput = h;
        Tensor mean = h.narrow(1, 0, latent), logVariance = h.narrow(1, latent, latent);
        Tensor epsilon = randn(mean.shape, mean.dtype, mean.device, generator: generator);
        Tensor sigma = DiagonalGaussian.StandardDeviation(logVariance);
        Tensor z = DiagonalGaussian.Sample(mean, logVariance, epsilon);
        var decoderInputs = new Tensor[decoder.Length];
        h = z;
        for (int i = 0; i < decoder.Length; i++)
        {
            decoderInputs[i] = h;
            h = nn.functional.linear(h, decoder[i].weight!, decoder[i].bias!);
            if (i < decoder.Length - 1) h.relu_();
        }
        Tensor logits = h.contiguous();

        // The likelihood and ∂loss/∂logits in one pass; the KL from the library's one formula.
        Tensor reconstruction = empty(n, ScalarType.Float32);
        VaeLab.Kernels.BernoulliKernel.Evaluate(Floats(logits), Floats(input), Floats(reconstruction), Floats(logits), 1f / n, (int)logits.shape[1]);
        Tensor kl = GaussianKl.PerDimension(mean, logVariance).sum(1);
        double reconstructionSum = reconstruction.sum().item<float>(), klSum = kl.sum().item<float>();
        double loss = BetaElboLoss.Mean(reconstructionSum, klSum, beta, n);

        // Backward through the decoder (logits now hold ∂loss/∂logits).
        Tensor gradient = logits;
        for (int i = decoder.Length - 1; i >= 0; i--)
            gradient = LinearBackward(decoder[i], decoderInputs[i], gradient, needInput: true, reluOnInput: i > 0);
        // ∂z → ∂μ, ∂log σ², with the KL's own gradient added.
        gradient = LatentBackward(gradient, encoderOutput, epsilon, sigma, BetaElboLoss.KlWeight(beta, n));
        for (int i = encoder.Length - 1; i >= 0; i--)
            gradient = LinearBackward(encoder[i], encoderInputs[i], gradient, needInput: i > 0, reluOnInput: i > 0);
        return (loss, reconstructionSum, klSum);
    }

    // y = h Wᵀ + b given ∂y: overwrites ∂W = ∂yᵀ h and ∂b = Σᵢ ∂yᵢ; returns ∂h (zero where the ReLU that made h was off).
    static Tensor LinearBackward(Linear layer, Tensor input, Tensor gradOutput, bool needInput, bool reluOnInput)
    {
        layer.weight!.grad!.addmm_(gradOutput.t(), input, beta: 0, alpha: 1);
        ColumnSums(Floats(gradOutput), Floats(layer.bias!.grad!));
        if (!needInput) return gradOutput;
        Tensor gradInput = gradOutput.mm(layer.weight!);
        if (reluOnInput) ZeroWhereOff(Floats(gradInput), Floats(input));
        return gradInput;
    }

    // [∂μ, ∂log σ²] from ∂z, with the KL's gradient: ∂μ = ∂z + c μ, ∂log σ² = ½ ∂z ε σ + ½ c (σ² − 1), c = β/n.
    internal static Tensor LatentBackward(Tensor gradZ, Tensor encoderOutput, Tensor epsilon, Tensor sigma, double klScale)
    {
        long n = gradZ.shape[0], d = gradZ.shape[1];
        Tensor result = empty(n, 2 * d, ScalarType.Float32);
        Span<float> output = Floats(result);
        ReadOnlySpan<float> dz = Floats(gradZ), eps = Floats(epsilon), sd = Floats(sigma), meanAndLogVariance = Floats(encoderOutput);
        float c = (float)klScale;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++)
            {
                int k = (int)(i * d + j), mu = (int)(i * 2 * d + j), lv = (int)(i * 2 * d + d + j);
                output[mu] = dz[k] + c * meanAndLogVariance[mu];
                output[lv] = 0.5f * dz[k] * eps[k] * sd[k] + 0.5f * c * (sd[k] * sd[k] - 1);
            }
        return result;
    }
}
