using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VaeLab.Evaluation.Inference;

/// <summary>
/// Turns off gradients of a module's parameters for a scope and restores them after: samplers and per-example optimisers
/// differentiate with respect to z or q's parameters only, and autograd then skips every weight gradient.
/// </summary>
internal sealed class FrozenParameters : IDisposable
{
    readonly List<Parameter> frozen;

    public FrozenParameters(nn.Module module)
    {
        frozen = module.parameters().Where(p => p.requires_grad).ToList();
        foreach (Parameter p in frozen) p.requires_grad = false;
    }

    public void Dispose()
    {
        foreach (Parameter p in frozen) p.requires_grad = true;
    }
}
