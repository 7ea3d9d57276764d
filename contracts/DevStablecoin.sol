// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureCheck} from "./libraries/SignatureCheck.sol";

/// @title DevStablecoin
/// @notice A dollar-like ERC-20 with ERC-2612 permit, for development chains only: `chainpass
/// deploy` creates it on a local chain so that orders have something to escrow. Its
/// deployer mints. On a real network, orders use a real stablecoin instead.
/// @dev OpenZeppelin's `ERC20` and `Nonces`; the permit is OpenZeppelin's `ERC20Permit`
/// rewritten over {SignatureCheck}, since `ERC20Permit` imports `EIP712` and through it
/// `Strings`, whose `mcopy` this build's Shanghai (Ganache) lacks. Six decimals, as USDC.
contract DevStablecoin is ERC20, IERC20Permit, IERC5267, Nonces {
    bytes32 private constant _PERMIT_TYPEHASH = keccak256(
        "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
    );
    string private constant _NAME = "chainpass dev dollar";
    string private constant _VERSION = "1";

    /// @notice The account that may mint: the deployer.
    address public immutable minter;

    /// @notice The permit's deadline `deadline` has passed.
    error ERC2612ExpiredSignature(uint256 deadline);
    /// @notice The permit is signed by `signer`, not `owner`.
    error ERC2612InvalidSigner(address signer, address owner);
    /// @notice Only the minter mints; `account` is not it.
    error DevStablecoinNotMinter(address account);

    constructor() ERC20(_NAME, "dUSD") {
        minter = msg.sender;
    }

    /// @notice Mints `amount` to `to`.
    /// @dev Only the minter. Emits {Transfer}.
    /// @param to The receiver.
    /// @param amount The amount, in units of 10^-6.
    function mint(address to, uint256 amount) external {
        if (msg.sender != minter) revert DevStablecoinNotMinter(msg.sender);
        _mint(to, amount);
    }

    /// @notice Six decimals, as USDC.
    /// @return 6.
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @inheritdoc IERC20Permit
    function permit(
        address owner,
        address spender,
        uint256 value,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        if (block.timestamp > deadline) revert ERC2612ExpiredSignature(deadline);
        bytes32 structHash = keccak256(abi.encode(_PERMIT_TYPEHASH, owner, spender, value, _useNonce(owner), deadline));
        address signer = ECDSA.recover(SignatureCheck.typedDataHash(_separator(), structHash), v, r, s);
        if (signer != owner) revert ERC2612InvalidSigner(signer, owner);
        _approve(owner, spender, value);
    }

    /// @inheritdoc IERC20Permit
    function nonces(address owner) public view override(IERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    /// @inheritdoc IERC20Permit
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _separator();
    }

    /// @inheritdoc IERC5267
    function eip712Domain()
        external
        view
        returns (bytes1, string memory, string memory, uint256, address, bytes32, uint256[] memory)
    {
        return (hex"0f", _NAME, _VERSION, block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    function _separator() private view returns (bytes32) {
        return SignatureCheck.domainSeparator(keccak256(bytes(_NAME)), keccak256(bytes(_VERSION)), address(this));
    }
}
