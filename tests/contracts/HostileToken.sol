// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title HostileToken
/// @notice An ERC-20 that misbehaves as real tokens do, for the trade-finance tests (issue 17).
/// Not part of the package. `mode`: 0 behaves; 1 takes a 1% fee on every transfer (the
/// receiver gets less); 2 returns false instead of moving anything; 3 calls `target` with
/// `payload` during every transfer (a re-entry), recording whether that call succeeded and
/// what it returned; 4 is paused (every transfer reverts). Any mode: an account on the
/// blocklist can neither send nor receive.
contract HostileToken {
    mapping(address account => uint256 balance) public balanceOf;
    mapping(address owner => mapping(address spender => uint256 value)) public allowance;
    mapping(address account => bool blocked) public blocked;
    uint256 public totalSupply;
    uint256 public mode;
    address public target;
    bytes public payload;
    bool public reentered;
    bool public reentrySucceeded;
    bytes public reentryAnswer;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    error Paused();
    error Blocked(address account);

    function setMode(uint256 mode_) external {
        mode = mode_;
    }

    function setBlocked(address account, bool value) external {
        blocked[account] = value;
    }

    function setReentry(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
    }

    function mint(address to, uint256 value) external {
        balanceOf[to] += value;
        totalSupply += value;
        emit Transfer(address(0), to, value);
    }

    function decimals() external pure returns (uint8) {
        return 6;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transfer(address to, uint256 value) external returns (bool) {
        return _transfer(msg.sender, to, value);
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        if (mode == 2) return false;
        allowance[from][msg.sender] -= value;
        return _transfer(from, to, value);
    }

    function _transfer(address from, address to, uint256 value) private returns (bool) {
        if (mode == 2) return false;
        if (mode == 4) revert Paused();
        if (blocked[from]) revert Blocked(from);
        if (blocked[to]) revert Blocked(to);
        balanceOf[from] -= value;
        uint256 fee = mode == 1 ? value / 100 : 0;
        balanceOf[to] += value - fee;
        totalSupply -= fee;
        emit Transfer(from, to, value - fee);
        if (mode == 3 && target != address(0)) {
            reentered = true;
            (reentrySucceeded, reentryAnswer) = target.call(payload);
        }
        return true;
    }
}
